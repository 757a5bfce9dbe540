// Tests of runtime/protocol/edge_round.*: one sync round at an edge, its exact aggregate of
// client deltas and its failures.

#include "runtime/protocol/edge_round.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

weighted_accumulator read(const edge_round_result& r) {
  auto acc = weighted_accumulator::deserialize(r.aggregate.data(), r.aggregate.size());
  REQUIRE(acc);
  return *acc;
}

}  // namespace

TEST_CASE("edge_round folds each client's delta against the round model, weighted by samples",
          "[protocol]") {
  edge_round r(3, make_snapshot({1, 2}), 3);
  CHECK(r.round() == 3);
  CHECK(*r.model() == std::vector<float>{1, 2});
  CHECK(r.pending() == 3);
  const std::vector<float> p0{2, 0};  // Δ (1, -2)
  const std::vector<float> p1{4, 4};  // Δ (3, 2)
  r.fold(0, p0.data(), 10, 0.5);
  r.fold(1, p1.data(), 30, 1.5);
  CHECK_FALSE(r.complete());
  r.fail(2, failure_code::timeout, "no answer in 10 s");
  CHECK(r.complete());
  CHECK(r.pending() == 0);
  const auto out = r.finish();
  const auto acc = read(out);
  // Σn = 40; mean Δ = ((10 + 90) / 40, (-20 + 60) / 40) = (2.5, 1); loss (5 + 45) / 40.
  CHECK(acc.count() == 2);
  CHECK(acc.weight() == 40.0);
  CHECK(acc.mean() == std::vector<float>{2.5f, 1.0f});
  CHECK(acc.scalar_mean() == 1.25);
  CHECK(out.failed.of(failure_code::timeout) == 1);
  CHECK(out.failed.total() == 1);
  CHECK(out.details == std::vector<std::string>{"client 2: no answer in 10 s"});
}

TEST_CASE("edge_round counts a result out of the accumulator's range as invalid_update",
          "[protocol]") {
  edge_round r(1, make_snapshot({0, 0}), 2);
  // 10 · 1e9 > max_term (2^31 − 1): the term does not fit.
  const std::vector<float> huge{1e9f, 0};
  const std::vector<float> nan{NAN, 0};
  r.fold(4, huge.data(), 10, 0);
  r.fold(5, nan.data(), 10, 0);
  CHECK(r.complete());
  const auto out = r.finish();
  CHECK(read(out).count() == 0);
  CHECK(out.failed.of(failure_code::invalid_update) == 2);
  CHECK(out.details == std::vector<std::string>{"client 4: rejected update: values out of range",
                                                "client 5: rejected update: values out of range"});
}

TEST_CASE("edge_round ignores results once every client is accounted for", "[protocol]") {
  edge_round r(1, make_snapshot({0, 0}), 1);
  const std::vector<float> p{1, 1};
  r.fold(0, p.data(), 2, 0);
  r.fold(0, p.data(), 2, 0);
  r.fail(0, failure_code::client_error, "late");
  const auto out = r.finish();
  CHECK(read(out).count() == 1);
  CHECK(out.failed.total() == 0);
  CHECK(out.details.empty());
}

TEST_CASE("edge_round with no client is complete at once", "[protocol]") {
  edge_round r(1, make_snapshot({0, 0}), 0);
  CHECK(r.complete());
  const auto acc = read(r.finish());
  CHECK(acc.count() == 0);
  CHECK(acc.dim() == 2);
}

TEST_CASE("edge_round keeps the first max_details failure details", "[protocol]") {
  edge_round r(1, make_snapshot({0}), 10);
  for (uint32_t c = 0; c < 10; ++c) r.fail(c, failure_code::client_error, "no data");
  CHECK(r.complete());
  const auto out = r.finish();
  CHECK(out.failed.of(failure_code::client_error) == 10);
  REQUIRE(out.details.size() == edge_round::max_details);
  CHECK(out.details.front() == "client 0: no data");
  CHECK(out.details.back() == "client 7: no data");
}

namespace {

robust_settings bound(norm_bound_mode mode, double c) {
  robust_settings s;
  s.norm_mode = mode;
  s.norm_bound = c;
  return s;
}

}  // namespace

TEST_CASE("edge_round clips a delta above the norm bound before the weighted mean",
          "[protocol][robust]") {
  edge_round r(1, make_snapshot({0, 0}), 2, 0, bound(norm_bound_mode::clip, 2.5));
  const std::vector<float> p0{3, 4};  // norm 5 -> (1.5, 2)
  const std::vector<float> p1{0, 1};  // norm 1, kept
  r.fold(0, p0.data(), 10, 0);
  r.fold(1, p1.data(), 30, 0);
  REQUIRE(r.complete());
  CHECK(r.held() == 0);
  const auto out = r.finish();
  const auto acc = read(out);
  // (10 (1.5, 2) + 30 (0, 1)) / 40 = (0.375, 1.25).
  CHECK(acc.count() == 2);
  CHECK(acc.mean() == std::vector<float>{0.375f, 1.25f});
  CHECK(out.norm.within == 1);
  CHECK(out.norm.clipped == 1);
  CHECK(out.norm.rejected == 0);
  CHECK(out.failed.total() == 0);
}

TEST_CASE("edge_round rejects a delta above the norm bound as invalid_update",
          "[protocol][robust]") {
  edge_round r(1, make_snapshot({0, 0}), 3, 0, bound(norm_bound_mode::reject, 2.5));
  const std::vector<float> p0{3, 4};
  const std::vector<float> p1{0, 1};
  const std::vector<float> nan{NAN, 0};
  r.fold(0, p0.data(), 10, 0);
  r.fold(1, p1.data(), 30, 0);
  r.fold(2, nan.data(), 30, 0);
  REQUIRE(r.complete());
  const auto out = r.finish();
  const auto acc = read(out);
  CHECK(acc.count() == 1);
  CHECK(acc.mean() == std::vector<float>{0, 1});
  CHECK(out.norm.within == 1);
  CHECK(out.norm.clipped == 0);
  CHECK(out.norm.rejected == 1);
  CHECK(out.failed.of(failure_code::invalid_update) == 2);
  CHECK(out.details ==
        std::vector<std::string>{"client 0: rejected update: norm 5 above the bound 2.5",
                                 "client 2: rejected update: values out of range"});
}

TEST_CASE("edge_round with the median rule holds the deltas and folds their median once",
          "[protocol][robust]") {
  robust_settings s;
  s.rule = robust_rule_kind::median;
  edge_round r(2, make_snapshot({1, 1}), 4, 0, s);
  const std::vector<float> p0{2, 1};      // Δ (1, 0)
  const std::vector<float> p1{1, 3};      // Δ (0, 2)
  const std::vector<float> p2{101, -99};  // Δ (100, -100): the attacker
  const std::vector<float> bad{INFINITY, 0};
  r.fold(0, p0.data(), 10, 1.0);
  r.fold(1, p1.data(), 20, 2.0);
  r.fold(2, p2.data(), 30, 3.0);
  r.fold(3, bad.data(), 30, 3.0);  // never held
  REQUIRE(r.complete());
  CHECK(r.held() == 3);
  const auto out = r.finish();
  const auto acc = read(out);
  CHECK(acc.count() == 3);      // the result stands for its three updates
  CHECK(acc.weight() == 60.0);  // with their total weight
  CHECK(acc.mean() == std::vector<float>{1, 0});
  CHECK(acc.scalar_mean() == Approx(140.0 / 60.0).epsilon(1e-12));
  CHECK(out.failed.of(failure_code::invalid_update) == 1);
}

TEST_CASE("edge_round with Krum after clipping keeps the honest cluster", "[protocol][robust]") {
  robust_settings s = bound(norm_bound_mode::clip, 10);
  s.rule = robust_rule_kind::krum;
  s.krum_f = 1;
  s.krum_m = 2;
  edge_round r(1, make_snapshot({0}), 4, 0, s);
  const std::vector<float> a{1}, b{2}, c{1.5f}, evil{1000};  // evil clipped to 10
  r.fold(0, a.data(), 1, 0);
  r.fold(1, b.data(), 1, 0);
  r.fold(2, c.data(), 1, 0);
  r.fold(3, evil.data(), 1, 0);
  const auto out = r.finish();
  // f = 1, n = 4: one neighbour. Scores: a 0.25, b 0.25, c 0.25, evil 64. m = 2: a and b.
  CHECK(read(out).mean() == std::vector<float>{1.5f});
  CHECK(read(out).count() == 4);
  CHECK(out.norm.clipped == 1);
  CHECK(out.norm.within == 3);
}
TEST_CASE(
    "edge_round with a clip bound folds each clipped delta with weight 1 and counts the "
    "unclipped",
    "[protocol]") {
  // DP-FedAvg: C = 2.5. Client 0: Δ (3, 4), norm 5 -> (1.5, 2); client 1: Δ (1, -2), norm
  // sqrt(5) <= 2.5, kept; client 2 Δ (NaN, 0): invalid_update.
  edge_round r(2, make_snapshot({1, 2}), 3, 0, robust_settings{}, 2.5);
  const std::vector<float> p0{4, 6}, p1{2, 0}, p2{NAN, 2};
  r.fold(0, p0.data(), 10, 0.5);
  r.fold(1, p1.data(), 30, 1.5);
  r.fold(2, p2.data(), 20, 1.0);
  REQUIRE(r.complete());
  const auto out = r.finish();
  const auto acc = read(out);
  CHECK(acc.count() == 2);
  CHECK(acc.weight() == 2.0);  // weight 1 each, not the samples
  std::vector<double> sum(2);
  acc.sum_into(sum.data());
  CHECK(sum == std::vector<double>{1.5 + 1, 2 - 2});
  CHECK(acc.scalar_mean() == 1.0);  // (0.5 + 1.5) / 2: the plain mean loss
  CHECK(out.unclipped == 1);
  CHECK(out.failed.of(failure_code::invalid_update) == 1);
}

TEST_CASE("edge_round reports each folded client's samples, loss and squared delta norm by id",
          "[protocol][client_report]") {
  edge_round r(3, make_snapshot({1, 2}), 4);
  const std::vector<float> p7{4, 4};  // Δ (3, 2): ||Δ||² = 13
  const std::vector<float> p2{2, 0};  // Δ (1, -2): ||Δ||² = 5
  const std::vector<float> bad{NAN, 0};
  r.fold(7, p7.data(), 30, 1.5);
  r.fold(2, p2.data(), 10, 0.5);
  r.fold(4, bad.data(), 10, 0.5);  // rejected: no report
  r.fail(5, failure_code::timeout, "late");
  const auto out = r.finish();
  const auto reports = decode_client_reports(out.reports.data(), out.reports.size());
  REQUIRE(reports);
  REQUIRE(reports->size() == 2);
  CHECK((*reports)[0].client == 2);
  CHECK((*reports)[0].samples == 10);
  CHECK((*reports)[0].loss == 0.5);
  CHECK((*reports)[0].sq_norm == 5.0);
  CHECK((*reports)[1].client == 7);
  CHECK((*reports)[1].sq_norm == 13.0);
}

TEST_CASE("edge_round sends no client reports when it clips for DP-FedAvg",
          "[protocol][client_report]") {
  edge_round r(1, make_snapshot({0, 0}), 1, 0, robust_settings{}, 1.0);
  const std::vector<float> p{3, 4};
  r.fold(0, p.data(), 10, 1.0);
  const auto out = r.finish();
  const auto reports = decode_client_reports(out.reports.data(), out.reports.size());
  REQUIRE(reports);
  CHECK(reports->empty());
}
