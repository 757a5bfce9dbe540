#include "actors/server.hpp"

#include <numeric>
#include <vector>

#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/timing/device_profile.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;

using fedactor::testing::run_federation;

namespace {

scenario async_teacher() {
  scenario s;
  s.name = "async-test";
  s.seed = 8;
  s.population.clients = 400;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 4;
  s.pool.max_live_clients = 40;
  s.pool.trainers = 2;
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.aggregations = 6;
  s.devices.compute_power.kind = power_kind::lognormal;
  return s;
}

}  // namespace

TEST_CASE("an async run steps exactly aggregations times with buffer_size updates each",
          "[actors]") {
  auto out = run_federation(async_teacher());
  REQUIRE(out.records.size() == 6);
  for (size_t i = 0; i < out.records.size(); ++i) {
    const auto& r = out.records[i];
    CHECK(r.async);
    CHECK(r.round == i + 1);
    CHECK(r.model_version == i + 1);
    CHECK(r.clients == 10);
    CHECK(r.staleness_histogram.size() == 6);  // threshold 5 -> staleness 0..5
    CHECK(std::accumulate(r.staleness_histogram.begin(), r.staleness_histogram.end(), 0u) == 10);
    CHECK(r.mean_decay > 0);
    CHECK(r.mean_decay <= 1);
    CHECK(r.sim_round_s > 0);
    if (i > 0) CHECK(r.sim_time_s > out.records[i - 1].sim_time_s);
  }
  const auto& sum = out.result.summary;
  CHECK(sum.protocol == "async");
  CHECK(sum.aggregations == 6);
  CHECK(sum.total_updates == 60);
  CHECK(sum.sim_time_s == out.records.back().sim_time_s);
  // Concurrency 20 over a buffer of 10: updates from the previous version arrive.
  CHECK(out.records.back().staleness_histogram[1] > 0);
}

TEST_CASE("an async run lowers the loss on the learnable task", "[actors]") {
  auto s = async_teacher();
  s.async.aggregations = 12;
  s.training.epochs = 2;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 12);
  CHECK(out.records.back().mean_loss < out.records.front().mean_loss - 0.1);
}

TEST_CASE("an async run gives identical model bytes with 1 and 2 scheduler threads", "[actors]") {
  auto s = async_teacher();
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
}

TEST_CASE("pre-aggregating edges give identical model bytes with 1 and 2 scheduler threads",
          "[actors]") {
  auto s = async_teacher();
  s.async.edge = edge_mode::preaggregate;
  s.async.preaggregate = 4;
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  REQUIRE(a.records.size() == 6);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
  CHECK(a.result.summary.total_updates >= 60);
  for (auto& r : a.records) CHECK(r.clients >= 10);  // a group may overshoot the buffer
}

TEST_CASE("staleness threshold 0 with concurrency above the buffer discards and reports it",
          "[actors]") {
  auto s = async_teacher();
  s.async.staleness_threshold = 0;
  s.async.concurrency = 30;
  s.async.buffer_size = 5;
  s.async.aggregations = 4;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 4);
  CHECK(out.result.summary.stale_updates > 0);
  CHECK(out.records.back().stale_discarded == out.result.summary.stale_updates);
  for (auto& r : out.records) {
    REQUIRE(r.staleness_histogram.size() == 1);
    CHECK(r.staleness_histogram[0] == 5);
    CHECK(r.mean_decay == 1.0);
  }
}

TEST_CASE("the tutorial's current-model delta rule runs through the actors", "[actors]") {
  auto s = async_teacher();
  s.async.delta = delta_rule::current;
  auto base_rule = run_federation(async_teacher());
  auto current_rule = run_federation(s);
  REQUIRE(current_rule.records.size() == 6);
  CHECK(current_rule.result.summary.model_sha256 != base_rule.result.summary.model_sha256);
}

TEST_CASE("sync over-selection keeps the first k to finish and drops the rest", "[actors]") {
  scenario s = async_teacher();
  s.protocol.mode = protocol_mode::sync;
  s.protocol.rounds = 2;
  s.selection.clients_per_round = 20;
  s.selection.over_select = 0.5;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 2);
  for (auto& r : out.records) {
    CHECK(r.selected == 30);
    CHECK(r.clients == 20);
    CHECK(r.dropped == 10);
    CHECK(r.sim_round_s > 0);
  }
  // The round lasts as long as its 20th-fastest client.
  CHECK(out.records[1].sim_time_s == out.records[0].sim_round_s + out.records[1].sim_round_s);
}

TEST_CASE("a sync round deadline cuts off slow clients and fixes the round length", "[actors]") {
  scenario s = async_teacher();
  s.protocol.mode = protocol_mode::sync;
  s.protocol.rounds = 1;
  s.selection.clients_per_round = 40;
  // Durations by hand: find a deadline that some selected clients miss.
  auto durations = std::vector<double>{};
  for (uint32_t id = 0; id < 400; ++id) {
    auto p = make_device_profile(s.devices, s.seed, id);
    durations.push_back(task_duration(s.devices, p, 120, 1, 2762 * 4));
  }
  std::sort(durations.begin(), durations.end());
  s.protocol.round_deadline = durations[200];  // about half the fleet is too slow
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 1);
  const auto& r = out.records[0];
  CHECK(r.dropped > 0);
  CHECK(r.clients + r.dropped == 40);
  CHECK(r.sim_round_s == s.protocol.round_deadline);
}
