// Compressed updates through whole runs (docs/communication.md): deterministic under the seed,
// different from the uncompressed run, and the update bytes the records count.

#include <cstdint>

#include <catch2/catch.hpp>

#include "runtime/compression/update_codec.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;
using fedactor::testing::run_federation;

namespace {

scenario small_teacher(compression_kind kind) {
  scenario s;
  s.name = "test";
  s.seed = 21;
  s.population.clients = 200;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 3;
  s.selection.clients_per_round = 20;
  s.pool.max_live_clients = 20;
  s.pool.trainers = 2;
  s.protocol.rounds = 3;
  s.compression.kind = kind;
  return s;
}

scenario small_async(compression_kind kind, edge_mode mode) {
  auto s = small_teacher(kind);
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 10;
  s.async.buffer_size = 5;
  s.async.aggregations = 4;
  s.async.edge = mode;
  s.async.preaggregate = 2;
  return s;
}

uint64_t bytes_of(const testing::federation_run& run) {
  uint64_t sum = 0;
  for (const auto& r : run.records) sum += r.update_bytes_up;
  return sum;
}

}  // namespace

TEST_CASE("uncompressed updates count four bytes per model value", "[host][compression]") {
  auto run = run_federation(small_teacher(compression_kind::none));
  const auto& sum = run.result.summary;
  REQUIRE(run.records.size() == 3);
  for (const auto& r : run.records) {
    CHECK(r.updates_up == 20);
    CHECK(r.update_bytes_up == uint64_t{20} * 4 * sum.num_params);
  }
  CHECK(sum.update_bytes_up == uint64_t{60} * 4 * sum.num_params);
  CHECK(sum.updates_up == 60);
}

TEST_CASE("a compressed run is deterministic under its seed and differs from the uncompressed",
          "[host][compression]") {
  const auto none = run_federation(small_teacher(compression_kind::none));
  for (auto kind : {compression_kind::fp16, compression_kind::int8, compression_kind::topk}) {
    INFO(to_string(kind));
    const auto a = run_federation(small_teacher(kind));
    const auto b = run_federation(small_teacher(kind), 1);
    REQUIRE(a.result.summary.model_sha256.size() == 64);
    CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
    CHECK(a.result.summary.model_sha256 != none.result.summary.model_sha256);
    CHECK(a.result.summary.failures == 0);
    CHECK(bytes_of(a) == bytes_of(b));
    CHECK(a.result.summary.update_bytes_up == bytes_of(a));
  }
}

TEST_CASE("int8 sends at least 3.9 times and topk at 1 percent 30 times fewer update bytes",
          "[host][compression]") {
  const auto none = run_federation(small_teacher(compression_kind::none));
  const auto int8 = run_federation(small_teacher(compression_kind::int8));
  const auto topk = run_federation(small_teacher(compression_kind::topk));
  const uint64_t n = none.result.summary.num_params;
  REQUIRE(bytes_of(none) == uint64_t{60} * 4 * n);
  // The counters hold each payload's exact size.
  compression_settings s;
  s.kind = compression_kind::int8;
  CHECK(bytes_of(int8) == 60 * encoded_update_bytes(s, n));
  s.kind = compression_kind::topk;
  CHECK(bytes_of(topk) == 60 * encoded_update_bytes(s, n));
  CHECK(static_cast<double>(bytes_of(none)) >= 3.9 * static_cast<double>(bytes_of(int8)));
  CHECK(static_cast<double>(bytes_of(none)) >= 30.0 * static_cast<double>(bytes_of(topk)));
  CHECK(int8.result.summary.updates_up == 60);
}

TEST_CASE("async runs decode compressed updates at the server or at preaggregating edges",
          "[host][compression]") {
  for (auto mode : {edge_mode::forward, edge_mode::preaggregate}) {
    INFO(to_string(mode));
    const auto none = run_federation(small_async(compression_kind::none, mode));
    const auto a = run_federation(small_async(compression_kind::int8, mode));
    const auto b = run_federation(small_async(compression_kind::int8, mode));
    REQUIRE(a.records.size() == 4);
    CHECK(a.result.summary.failures == 0);
    CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
    CHECK(a.result.summary.model_sha256 != none.result.summary.model_sha256);
    compression_settings s;
    s.kind = compression_kind::int8;
    const uint64_t n = a.result.summary.num_params;
    CHECK(a.result.summary.update_bytes_up ==
          a.result.summary.updates_up * encoded_update_bytes(s, n));
    CHECK(none.result.summary.update_bytes_up == none.result.summary.updates_up * 4 * n);
    CHECK(a.result.summary.updates_up >= 20);
  }
}
