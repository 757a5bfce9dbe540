// Robust aggregation and simulated attacks through the embedding API (federation): a scaling
// attack hurts FedAvg on the learnable teacher task and the defences restore most of it
// (asserted loosely; the measured numbers on Fashion-MNIST are in docs/robustness.md), NaN
// attackers are refused, and the norm bound's counts reach the records and the summary.

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/protocol/attack.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;
using fedactor::testing::run_federation;

namespace {

// 200 clients of the teacher task, 20 per round through one edge, 6 rounds, evaluated at the
// end on the teacher's test split.
scenario attacked(double fraction) {
  scenario s;
  s.name = "robust";
  s.seed = 3;
  s.population.clients = 200;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.training.epochs = 2;
  s.topology.edges = 1;
  s.selection.clients_per_round = 20;
  s.pool.max_live_clients = 20;
  s.pool.trainers = 2;
  s.protocol.rounds = 6;
  s.eval.every = 6;
  s.attack.kind = attack_kind::scale;
  s.attack.scale = 50;
  s.attack.fraction = fraction;
  s.attack.seed = 1;
  return s;
}

double accuracy(const scenario& s) {
  auto out = run_federation(s);
  REQUIRE(out.result.summary.evaluated);
  return out.result.summary.test_accuracy;
}

}  // namespace

TEST_CASE(
    "a scaling attack ruins FedAvg and median, trimmed mean, Krum and clipping restore most "
    "of it",
    "[host][robust]") {
  const double clean = accuracy(attacked(0.0));
  const double hurt = accuracy(attacked(0.2));
  INFO("clean " << clean << ", attacked " << hurt);
  REQUIRE(hurt < clean - 0.2);
  auto defended = [&](auto set) {
    auto s = attacked(0.2);
    set(s);
    return accuracy(s);
  };
  const double median = defended([](scenario& s) { s.robust.rule = robust_rule_kind::median; });
  const double trimmed = defended([](scenario& s) {
    s.robust.rule = robust_rule_kind::trimmed_mean;
    s.robust.trim = 0.45;  // t = 9 of 20: more than a round's attackers, almost surely
  });
  const double krum = defended([](scenario& s) {
    s.robust.rule = robust_rule_kind::krum;
    s.robust.krum_f = 6;
    s.robust.krum_m = 10;
  });
  const double clip = defended([](scenario& s) {
    s.robust.norm_bound.mode = norm_bound_mode::clip;
    s.robust.norm_bound.target_quantile = 0.5;
  });
  INFO("median " << median << ", trimmed " << trimmed << ", krum " << krum << ", clip " << clip);
  // "Most": at least two thirds of what the attack took back.
  const double restored = hurt + (clean - hurt) * 2.0 / 3.0;
  CHECK(median > restored);
  CHECK(trimmed > restored);
  CHECK(krum > restored);
  CHECK(clip > restored);
}

TEST_CASE("NaN attackers are refused as invalid_update before any rule, and the run learns",
          "[host][robust]") {
  auto s = attacked(0.3);
  s.attack.kind = attack_kind::nan;
  s.robust.rule = robust_rule_kind::median;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 6);
  uint32_t refused = 0;
  for (const auto& r : out.records) {
    CHECK(r.clients + r.failures_by.of(failure_code::invalid_update) == 20);
    CHECK(r.failures == r.failures_by.of(failure_code::invalid_update));
    refused += r.failures;
  }
  // Every refused client is one of the attackers (and 30 % of 120 tasks is about 36).
  CHECK(refused > 15);
  CHECK(refused < 60);
  CHECK(out.records.back().mean_loss < out.records.front().mean_loss);
}

TEST_CASE(
    "the norm bound's counts and adaptive bound reach the records and the summary, and a "
    "robust run repeats bit for bit",
    "[host][robust]") {
  auto s = attacked(0.2);
  s.robust.norm_bound.mode = norm_bound_mode::reject;
  s.robust.norm_bound.bound = 1.0;
  s.robust.norm_bound.target_quantile = 0.5;
  s.robust.norm_bound.lr = 0.2;
  s.robust.rule = robust_rule_kind::median;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 6);
  uint64_t rejected = 0;
  double bound = 1.0;
  for (const auto& r : out.records) {
    CHECK(r.norm_bound == bound);  // the bound this round's edges applied
    CHECK(r.norm_clipped == 0);
    CHECK(r.norm_rejected <= r.failures_by.of(failure_code::invalid_update));
    CHECK(r.clients + r.failures == 20);
    // C ← C·exp(−0.2 (b̄ − 0.5)), b̄ = the fraction within the bound.
    const double within = static_cast<double>(r.clients) / 20.0;
    bound *= std::exp(-0.2 * (within - 0.5));
    rejected += r.norm_rejected;
  }
  CHECK(rejected > 0);
  CHECK(out.result.summary.norm_bound_on);
  CHECK(out.result.summary.norm_rejected == rejected);
  CHECK(out.result.summary.norm_clipped == 0);
  // The same scenario, the same model (the rule sees the updates in client id order), with
  // another scheduler thread count too.
  auto again = run_federation(s, 1);
  CHECK(model_sha256(again.result.model) == model_sha256(out.result.model));
}

namespace {

// attacked()'s task in async FedBuff: 20 clients training at once (simulated clock, staleness
// up to 3), a server step every 10 updates, 12 steps, forwarded through one edge.
scenario attacked_async(double fraction) {
  auto s = attacked(fraction);
  s.name = "robust_async";
  s.clock = clock_kind::simulated;
  s.protocol.mode = protocol_mode::async;
  s.async.concurrency = 20;
  s.async.buffer_size = 10;
  s.async.staleness_threshold = 3;
  s.async.aggregations = 12;
  s.async.edge = edge_mode::forward;
  s.eval.every = 12;
  return s;
}

}  // namespace

TEST_CASE(
    "async: a scaling attack ruins FedBuff and median, trimmed mean, Krum and clipping at the "
    "server's buffer restore most of it",
    "[host][robust][async]") {
  const double clean = accuracy(attacked_async(0.0));
  const double hurt = accuracy(attacked_async(0.2));
  INFO("clean " << clean << ", attacked " << hurt);
  REQUIRE(hurt < clean - 0.2);
  auto defended = [&](auto set) {
    auto s = attacked_async(0.2);
    set(s);
    return accuracy(s);
  };
  const double median = defended([](scenario& s) { s.robust.rule = robust_rule_kind::median; });
  const double trimmed = defended([](scenario& s) {
    s.robust.rule = robust_rule_kind::trimmed_mean;
    s.robust.trim = 0.45;  // t = 4 of 10 at each end
  });
  const double krum = defended([](scenario& s) {
    s.robust.rule = robust_rule_kind::krum;
    s.robust.krum_f = 3;  // k = 10 > 2f + 2
    s.robust.krum_m = 7;  // k - f: averaging fewer learns too slowly in 12 steps
  });
  const double clip = defended([](scenario& s) {
    s.robust.norm_bound.mode = norm_bound_mode::clip;
    s.robust.norm_bound.target_quantile = 0.5;
  });
  INFO("median " << median << ", trimmed " << trimmed << ", krum " << krum << ", clip " << clip);
  const double restored = hurt + (clean - hurt) * 2.0 / 3.0;
  CHECK(median > restored);
  CHECK(trimmed > restored);
  CHECK(krum > restored);
  CHECK(clip > restored);
}

TEST_CASE("async: the norm bound's counts reach the records and the summary, and the run repeats",
          "[host][robust][async]") {
  auto s = attacked_async(0.2);
  s.robust.norm_bound.mode = norm_bound_mode::reject;
  s.robust.norm_bound.bound = 1.0;
  s.robust.norm_bound.target_quantile = 0.5;
  s.robust.rule = robust_rule_kind::median;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 12);
  uint64_t rejected = 0;
  for (const auto& r : out.records) {
    CHECK(r.async);
    CHECK(r.norm_bound > 0);
    CHECK(r.norm_clipped == 0);
    CHECK(r.norm_rejected <= r.failures_by.of(failure_code::invalid_update));
    CHECK(r.clients == 10);
    rejected += r.norm_rejected;
  }
  CHECK(rejected > 0);
  CHECK(out.result.summary.norm_bound_on);
  CHECK(out.result.summary.norm_rejected == rejected);
  auto again = run_federation(s, 1);
  CHECK(model_sha256(again.result.model) == model_sha256(out.result.model));
}
