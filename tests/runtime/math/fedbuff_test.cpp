#include "runtime/math/fedbuff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/math/staleness.hpp"
#include "runtime/strategy/server_optimizer.hpp"

using namespace fedactor;

namespace {

// The buffer's settings and the server learning rate of its sgd server optimizer.
struct buffer_cfg {
  async_config cfg;
  double server_lr;
};

buffer_cfg make_cfg(uint32_t buffer_size, uint32_t threshold, delta_rule rule,
                    double server_lr = 0.5, double decay_base = 0.5) {
  async_config cfg;
  cfg.buffer_size = buffer_size;
  cfg.staleness_threshold = threshold;
  cfg.delta = rule;
  cfg.decay.kind = decay_kind::exponential;
  cfg.decay.base = decay_base;
  return {cfg, server_lr};
}

std::unique_ptr<server_optimizer> sgd(double lr, size_t dim) {
  auto c = server_optimizer_defaults("sgd");
  c.server_lr = lr;
  return make_server_optimizer(c, dim);
}

fedbuff make_buffer(std::vector<float> model, const buffer_cfg& b) {
  const size_t dim = model.size();
  return fedbuff(std::move(model), b.cfg, sgd(b.server_lr, dim));
}

offer_result offer(fedbuff& fb, const std::vector<float>& params, uint32_t n, uint64_t base,
                   double loss = 0.0) {
  return fb.offer({params.data(), params.size(), n, base, loss});
}

// Two steps of three identical updates, each moving the model by 0.5 * (2, 4):
// version 0 (0, 0) -> version 1 (1, 2) -> version 2 (2, 4). Both delta rules agree here
// because every update starts from the current version.
void advance_to_version_2(fedbuff& fb) {
  for (int i = 0; i < 3; ++i) offer(fb, {2, 4}, 1, 0);  // Δ = (2, 4) - (0, 0)
  REQUIRE(fb.model() == std::vector<float>{1, 2});
  for (int i = 0; i < 3; ++i) offer(fb, {3, 6}, 1, 1);  // Δ = (3, 6) - (1, 2)
  REQUIRE(fb.model() == std::vector<float>{2, 4});
  REQUIRE(fb.version() == 2);
  fb.take_records();
}

struct hand_update {
  std::vector<float> params;
  uint32_t n;
  uint64_t base;
  double loss;
};

// The three hand-made updates offered at version 2 (buffer_size 3, threshold 2, decay 0.5^s):
//   A: base 2 (s = 0, decay 1),    n = 10 -> w = 10, params (4, 4), loss 1
//   B: base 1 (s = 1, decay 0.5),  n = 20 -> w = 10, params (3, 2), loss 2
//   C: base 0 (s = 2, decay 0.25), n = 80 -> w = 20, params (1, 8), loss 0.5
//   Σw = 40
const std::vector<hand_update> hand_updates = {
    {{4, 4}, 10, 2, 1.0},
    {{3, 2}, 20, 1, 2.0},
    {{1, 8}, 80, 0, 0.5},
};

void check_hand_record(const aggregation_record& r) {
  CHECK(r.version == 3);
  CHECK(r.updates == 3);
  CHECK(r.stale_discarded == 0);
  CHECK(r.staleness_histogram == std::vector<uint32_t>{1, 1, 1});
  CHECK(r.mean_decay == 1.75 / 3.0);   // (1 + 0.5 + 0.25) / 3
  CHECK(r.mean_loss == 90.0 / 110.0);  // (10·1 + 20·2 + 80·0.5) / (10 + 20 + 80)
}

std::vector<float> random_params(rng& r, size_t dim) {
  std::vector<float> p(dim);
  for (auto& v : p) v = static_cast<float>(r.normal());
  return p;
}

}  // namespace

TEST_CASE("fedbuff one aggregation of three updates with delta rule base, by hand", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(3, 2, delta_rule::base));
  advance_to_version_2(fb);
  // Deltas against each update's own base model (m0 = (0, 0), m1 = (1, 2), m2 = (2, 4)):
  //   Δ_A = (4, 4) - m2 = (2, 0)
  //   Δ_B = (3, 2) - m1 = (2, 0)
  //   Δ_C = (1, 8) - m0 = (1, 8)
  // Σ wΔ = 10·(2, 0) + 10·(2, 0) + 20·(1, 8) = (60, 160); / Σw = 40 -> (1.5, 4)
  // model = m2 + 0.5 · (1.5, 4) = (2.75, 6)
  const auto& u = hand_updates;
  CHECK(offer(fb, u[0].params, u[0].n, u[0].base, u[0].loss) == offer_result::folded);
  CHECK(offer(fb, u[1].params, u[1].n, u[1].base, u[1].loss) == offer_result::folded);
  CHECK(offer(fb, u[2].params, u[2].n, u[2].base, u[2].loss) == offer_result::aggregated);
  CHECK(fb.version() == 3);
  CHECK(fb.model() == std::vector<float>{2.75f, 6.0f});
  auto records = fb.take_records();
  REQUIRE(records.size() == 1);
  check_hand_record(records[0]);
}

TEST_CASE("fedbuff one aggregation of three updates with delta rule current, by hand", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(3, 2, delta_rule::current));
  advance_to_version_2(fb);
  // Deltas against the current model m2 = (2, 4), as the tutorial computes them:
  //   Δ_A = (4, 4) - (2, 4) = (2, 0)
  //   Δ_B = (3, 2) - (2, 4) = (1, -2)
  //   Δ_C = (1, 8) - (2, 4) = (-1, 4)
  // Σ wΔ = 10·(2, 0) + 10·(1, -2) + 20·(-1, 4) = (10, 60); / Σw = 40 -> (0.25, 1.5)
  // model = m2 + 0.5 · (0.25, 1.5) = (2.125, 4.75)
  const auto& u = hand_updates;
  CHECK(offer(fb, u[0].params, u[0].n, u[0].base, u[0].loss) == offer_result::folded);
  CHECK(offer(fb, u[1].params, u[1].n, u[1].base, u[1].loss) == offer_result::folded);
  CHECK(offer(fb, u[2].params, u[2].n, u[2].base, u[2].loss) == offer_result::aggregated);
  CHECK(fb.version() == 3);
  CHECK(fb.model() == std::vector<float>{2.125f, 4.75f});
  auto records = fb.take_records();
  REQUIRE(records.size() == 1);
  check_hand_record(records[0]);
}

TEST_CASE("fedbuff step result is bit-identical for every order of the buffered updates",
          "[math]") {
  for (auto rule : {delta_rule::base, delta_rule::current}) {
    const std::vector<float> expected = rule == delta_rule::base
                                            ? std::vector<float>{2.75f, 6.0f}
                                            : std::vector<float>{2.125f, 4.75f};
    std::vector<size_t> order = {0, 1, 2};
    do {
      fedbuff fb = make_buffer({0, 0}, make_cfg(3, 2, rule));
      advance_to_version_2(fb);
      for (auto i : order) {
        const auto& u = hand_updates[i];
        offer(fb, u.params, u.n, u.base, u.loss);
      }
      CHECK(fb.model() == expected);
      auto records = fb.take_records();
      REQUIRE(records.size() == 1);
      check_hand_record(records[0]);
    } while (std::next_permutation(order.begin(), order.end()));
  }
}

TEST_CASE("fedbuff steps exactly when the buffer reaches buffer_size, not before", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(3, 5, delta_rule::base, 1.0));
  CHECK(offer(fb, {1, 1}, 5, 0) == offer_result::folded);
  CHECK(fb.stats().buffered == 1);
  CHECK(offer(fb, {1, 1}, 5, 0) == offer_result::folded);
  CHECK(fb.stats().buffered == 2);
  CHECK(fb.version() == 0);
  CHECK(fb.model() == std::vector<float>{0, 0});
  CHECK(fb.take_records().empty());
  CHECK(offer(fb, {1, 1}, 5, 0) == offer_result::aggregated);
  CHECK(fb.version() == 1);
  CHECK(fb.stats().buffered == 0);
  CHECK(fb.stats().aggregations == 1);
  CHECK(fb.model() == std::vector<float>{1, 1});  // mean Δ (1, 1), server_lr 1
  CHECK(fb.take_records().size() == 1);
  // The buffer starts afresh: the next step needs three more.
  CHECK(offer(fb, {2, 2}, 5, 1) == offer_result::folded);
  CHECK(offer(fb, {2, 2}, 5, 1) == offer_result::folded);
  CHECK(fb.version() == 1);
  CHECK(offer(fb, {2, 2}, 5, 1) == offer_result::aggregated);
  CHECK(fb.version() == 2);
}

TEST_CASE("fedbuff staleness equal to the threshold is folded, one more is discarded and counted",
          "[math]") {
  // buffer_size 1: every accepted update is a step. threshold 2, decay 0.5^s.
  fedbuff fb = make_buffer({0, 0}, make_cfg(1, 2, delta_rule::base, 1.0));
  for (uint64_t v = 0; v < 3; ++v) REQUIRE(offer(fb, {0, 0}, 1, v) == offer_result::aggregated);
  REQUIRE(fb.version() == 3);
  fb.take_records();

  CHECK(offer(fb, {1, 1}, 1, 0) == offer_result::stale);  // s = 3 > 2
  CHECK(fb.stats().stale_updates == 1);
  CHECK(fb.stats().buffered == 0);
  CHECK(fb.version() == 3);
  CHECK(fb.model() == std::vector<float>{0, 0});

  CHECK(offer(fb, {1, 1}, 1, 1) == offer_result::aggregated);  // s = 2 == threshold
  CHECK(fb.version() == 4);
  CHECK(fb.model() == std::vector<float>{1, 1});  // mean of one Δ is Δ, whatever its weight
  auto records = fb.take_records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].staleness_histogram == std::vector<uint32_t>{0, 0, 1});
  CHECK(records[0].mean_decay == 0.25);  // 0.5^2
  CHECK(records[0].stale_discarded == 1);
  CHECK(fb.stats().stale_updates == 1);
  CHECK(fb.stats().total_updates == 4);
}

TEST_CASE("fedbuff keeps the models of exactly the last threshold+1 versions", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(1, 2, delta_rule::base, 1.0));
  std::vector<std::vector<float>> models = {{0, 0}};
  REQUIRE(fb.model_at(0) != nullptr);
  CHECK(*fb.model_at(0) == models[0]);
  CHECK(fb.model_at(1) == nullptr);  // the future
  for (uint64_t v = 0; v < 4; ++v) {
    const float x = static_cast<float>(v + 1);
    offer(fb, {x, -x}, 1, v);  // Δ = (x, -x) - model(v)
    models.push_back(fb.model());
  }
  REQUIRE(fb.version() == 4);
  CHECK(fb.model_at(0) == nullptr);
  CHECK(fb.model_at(1) == nullptr);
  for (uint64_t v = 2; v <= 4; ++v) {
    INFO("version " << v);
    REQUIRE(fb.model_at(v) != nullptr);
    CHECK(*fb.model_at(v) == models[v]);
    CHECK(*fb.model_at(v) == std::vector<float>{static_cast<float>(v), -static_cast<float>(v)});
  }
  CHECK(fb.model_at(4) == &fb.model());
  CHECK(fb.model_at(5) == nullptr);
}

TEST_CASE("fedbuff with threshold 0 keeps only the current model and takes only fresh updates",
          "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(1, 0, delta_rule::base, 1.0));
  CHECK(offer(fb, {1, 2}, 3, 0) == offer_result::aggregated);
  CHECK(offer(fb, {5, 5}, 3, 0) == offer_result::stale);
  CHECK(offer(fb, {2, 3}, 3, 1) == offer_result::aggregated);
  CHECK(fb.model() == std::vector<float>{2, 3});
  CHECK(fb.model_at(1) == nullptr);
  REQUIRE(fb.model_at(2) != nullptr);
  CHECK(*fb.model_at(2) == std::vector<float>{2, 3});
}

TEST_CASE("fedbuff rejects wrong-size, non-finite, sample-less and future updates and counts them",
          "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(2, 2, delta_rule::base, 1.0));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(offer(fb, {1, 1, 1}, 5, 0) == offer_result::rejected);  // three values for two
  CHECK(offer(fb, {1}, 5, 0) == offer_result::rejected);
  CHECK(offer(fb, {1, nan}, 5, 0) == offer_result::rejected);
  CHECK(offer(fb, {inf, 1}, 5, 0) == offer_result::rejected);
  CHECK(offer(fb, {1, 1}, 0, 0) == offer_result::rejected);  // no samples
  CHECK(offer(fb, {1, 1}, 5, 1) == offer_result::rejected);  // base version from the future
  CHECK(offer(fb, {1, 1}, 5, 0, std::nan("")) == offer_result::rejected);  // loss
  CHECK(offer(fb, {3e38f, 1}, 5, 0) == offer_result::rejected);  // w·Δ beyond fixed point
  CHECK(fb.stats().rejected_updates == 8);
  CHECK(fb.stats().total_updates == 0);
  CHECK(fb.stats().buffered == 0);
  CHECK(fb.version() == 0);
  // A rejected update leaves no trace in the next step.
  CHECK(offer(fb, {1, 1}, 5, 0) == offer_result::folded);
  CHECK(offer(fb, {3, 3}, 5, 0) == offer_result::aggregated);
  CHECK(fb.model() == std::vector<float>{2, 2});
}

TEST_CASE("fedbuff group offer equals offering its members one by one", "[math]") {
  const size_t dim = 17;
  for (auto rule : {delta_rule::base, delta_rule::current}) {
    INFO("delta rule " << to_string(rule));
    rng r{2024};
    const std::vector<float> initial = random_params(r, dim);
    buffer_cfg cfg = make_cfg(4, 3, rule, 0.75, 0.9);
    fedbuff one_by_one = make_buffer(initial, cfg);
    fedbuff grouped = make_buffer(initial, cfg);
    // Version 0 -> 1 identically in both.
    for (int i = 0; i < 4; ++i) {
      const auto p = random_params(r, dim);
      const auto n = static_cast<uint32_t>(50 + r.below(150));
      const double loss = r.uniform() * 3;
      offer(one_by_one, p, n, 0, loss);
      offer(grouped, p, n, 0, loss);
    }
    REQUIRE(one_by_one.model() == grouped.model());
    REQUIRE(grouped.version() == 1);

    // Three members started from version 0 (s = 1), folded at an edge.
    const std::vector<float>& base_model = *grouped.model_at(0);
    weighted_accumulator sums(dim);
    for (int i = 0; i < 3; ++i) {
      const auto p = random_params(r, dim);
      const auto n = static_cast<uint32_t>(50 + r.below(150));
      const double loss = r.uniform() * 3;
      CHECK(offer(one_by_one, p, n, 0, loss) == offer_result::folded);
      std::vector<float> x = p;
      if (rule == delta_rule::base) {
        for (size_t j = 0; j < dim; ++j) x[j] = p[j] - base_model[j];
      }
      REQUIRE(sums.add(x.data(), n, loss));
    }
    CHECK(grouped.offer_group(sums, 0, 3) == offer_result::folded);
    CHECK(grouped.stats().buffered == 3);
    // A fresh single update fills both buffers.
    const auto p = random_params(r, dim);
    CHECK(offer(one_by_one, p, 120, 1, 0.5) == offer_result::aggregated);
    CHECK(offer(grouped, p, 120, 1, 0.5) == offer_result::aggregated);

    REQUIRE(grouped.version() == 2);
    for (size_t j = 0; j < dim; ++j) {
      INFO("parameter " << j);
      CHECK(grouped.model()[j] == Approx(one_by_one.model()[j]).margin(1e-6));
    }
    auto a = one_by_one.take_records();
    auto b = grouped.take_records();
    REQUIRE(a.size() == 2);
    REQUIRE(b.size() == 2);
    CHECK(b[1].updates == 4);
    CHECK(b[1].staleness_histogram == std::vector<uint32_t>{1, 3, 0, 0});
    CHECK(b[1].staleness_histogram == a[1].staleness_histogram);
    CHECK(b[1].mean_decay == a[1].mean_decay);  // (1 + 3 · 0.9) / 4, same fixed-point terms
    CHECK(b[1].mean_decay == Approx((1 + 3 * 0.9) / 4).epsilon(1e-9));
    CHECK(b[1].mean_loss == a[1].mean_loss);  // the members' own fixed-point loss terms
    CHECK(grouped.stats().total_updates == one_by_one.stats().total_updates);
  }
}

TEST_CASE("fedbuff group may overshoot the buffer and its step folds every member", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(3, 2, delta_rule::current, 1.0));
  CHECK(offer(fb, {1, 0}, 10, 0, 1.0) == offer_result::folded);
  CHECK(offer(fb, {1, 0}, 10, 0, 1.0) == offer_result::folded);
  // Two members: params (3, 4) with n = 10 and (3, 4) with n = 30 (rule current: Σ n·params).
  weighted_accumulator sums(2);
  const float p[] = {3, 4};
  REQUIRE(sums.add(p, 10, 2.0));
  REQUIRE(sums.add(p, 30, 2.0));
  CHECK(fb.offer_group(sums, 0, 2) == offer_result::aggregated);  // buffered 4 >= 3
  // Σw = 10 + 10 + 40 = 60; Σ wΔ = 20·(1, 0) + 40·(3, 4) = (140, 160)
  // model = (140 / 60, 160 / 60) = (7/3, 8/3)
  CHECK(fb.model() ==
        std::vector<float>{static_cast<float>(140.0 / 60.0), static_cast<float>(160.0 / 60.0)});
  auto records = fb.take_records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].updates == 4);
  CHECK(records[0].staleness_histogram == std::vector<uint32_t>{4, 0, 0});
  CHECK(records[0].mean_loss == 100.0 / 60.0);  // (10·1 + 10·1 + 10·2 + 30·2) / 60
  CHECK(fb.stats().total_updates == 4);
  CHECK(fb.stats().buffered == 0);
}

TEST_CASE("fedbuff stale or malformed group counts every member", "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(1, 0, delta_rule::base, 1.0));
  offer(fb, {1, 1}, 1, 0);
  REQUIRE(fb.version() == 1);
  weighted_accumulator sums(2);
  const float x[] = {1, 1};
  for (int i = 0; i < 3; ++i) REQUIRE(sums.add(x, 5));
  CHECK(fb.offer_group(sums, 0, 3) == offer_result::stale);  // s = 1 > 0
  CHECK(fb.stats().stale_updates == 3);
  CHECK(fb.offer_group(sums, 1, 2) == offer_result::rejected);  // count differs from sums
  CHECK(fb.offer_group(sums, 2, 3) == offer_result::rejected);  // future base version
  CHECK(fb.offer_group(weighted_accumulator(3), 1, 3) == offer_result::rejected);  // size
  CHECK(fb.stats().rejected_updates == 8);
  CHECK(fb.version() == 1);
}

TEST_CASE("fedbuff records each step once with its version and the cumulative stale count",
          "[math]") {
  fedbuff fb = make_buffer({0, 0}, make_cfg(2, 1, delta_rule::base, 1.0));
  offer(fb, {1, 1}, 1, 0, 4.0);
  offer(fb, {1, 1}, 3, 0, 2.0);  // step 1: mean loss (1·4 + 3·2) / 4 = 2.5
  offer(fb, {2, 2}, 1, 1);
  offer(fb, {2, 2}, 1, 1);  // step 2
  offer(fb, {0, 0}, 1, 0);  // s = 2 > 1: stale
  offer(fb, {3, 3}, 1, 2);
  offer(fb, {3, 3}, 1, 1);  // step 3
  auto records = fb.take_records();
  REQUIRE(records.size() == 3);
  CHECK(records[0].version == 1);
  CHECK(records[0].mean_loss == 2.5);
  CHECK(records[1].version == 2);
  CHECK(records[1].stale_discarded == 0);
  CHECK(records[2].version == 3);
  CHECK(records[2].stale_discarded == 1);
  CHECK(records[2].staleness_histogram == std::vector<uint32_t>{1, 1});
  CHECK(records[2].mean_decay == 0.75);  // (1 + 0.5) / 2
  CHECK(fb.take_records().empty());
  const fedbuff_stats& st = fb.stats();
  CHECK(st.total_updates == 6);
  CHECK(st.stale_updates == 1);
  CHECK(st.rejected_updates == 0);
  CHECK(st.aggregations == 3);
  CHECK(st.current_version == 3);
  CHECK(st.buffered == 0);
}

TEST_CASE("fedbuff constructor rejects an empty model and impossible settings", "[math]") {
  CHECK_THROWS_AS(fedbuff({}, async_config{}, sgd(1, 1)), std::invalid_argument);
  CHECK_THROWS_AS(fedbuff({0}, async_config{}, nullptr), std::invalid_argument);
  // An optimizer built for another model size.
  CHECK_THROWS_AS(fedbuff({0}, async_config{}, sgd(1, 2)), std::invalid_argument);
  async_config cfg;
  cfg.buffer_size = 0;
  CHECK_THROWS_AS(fedbuff({0}, cfg, sgd(1, 1)), std::invalid_argument);
  cfg = async_config{};
  cfg.staleness_threshold = max_staleness_threshold + 1;
  CHECK_THROWS_AS(fedbuff({0}, cfg, sgd(1, 1)), std::invalid_argument);
  cfg.staleness_threshold = max_staleness_threshold;
  CHECK_NOTHROW(fedbuff({0}, cfg, sgd(1, 1)));
}

TEST_CASE("fedbuff weighs updates with a staleness weight of the caller's own", "[math]") {
  // Weight 1 when fresh, 0.25 at staleness 1. Buffer of 2, threshold 3, server_lr 1.
  async_config cfg;
  cfg.buffer_size = 2;
  cfg.staleness_threshold = 3;
  fedbuff fb({0, 0}, cfg, sgd(1, 2), [](uint64_t s) { return s == 0 ? 1.0 : 0.25; });
  offer(fb, {4, 4}, 1, 0);
  offer(fb, {4, 4}, 1, 0);  // step: model (4, 4), version 1
  REQUIRE(fb.version() == 1);
  offer(fb, {8, 8}, 1, 1);  // fresh: Δ = (4, 4), weight 1
  offer(fb, {0, 0}, 3, 0);  // staleness 1: Δ = (0, 0) − (0, 0) = 0, weight 3 · 0.25 = 0.75
  // mean Δ = (1·4 + 0.75·0) / 1.75 = 2.2857142857…; model 4 + 2.2857143 = 6.2857141 in float.
  REQUIRE(fb.version() == 2);
  const float expected =
      static_cast<float>(4.0 + static_cast<double>(static_cast<float>(4.0 / 1.75)));
  CHECK(fb.model() == std::vector<float>{expected, expected});
  // A weight outside [0, 1] refuses the update.
  fedbuff bad({0}, cfg, sgd(1, 1), [](uint64_t) { return 1.5; });
  CHECK(offer(bad, {1}, 1, 0) == offer_result::rejected);
  CHECK(bad.stats().rejected_updates == 1);
}

TEST_CASE("fedbuff steps through the server optimizer it was given", "[math]") {
  // fedadagrad (beta1 0, no bias correction): from w = 0.1, two updates 0.2 and 1.0 with 5
  // samples each: mean Δ = 0.5, v = 0.25, w = 0.1 + 0.1 · 0.5 / (0.5 + 0.5) = 0.15 (Flower's
  // own test case, eta 0.1, tau 0.5).
  auto c = server_optimizer_defaults("fedadagrad");
  c.server_lr = 0.1;
  c.tau = 0.5;
  async_config cfg;
  cfg.buffer_size = 2;
  fedbuff fb({0.1f}, cfg, make_server_optimizer(c, 1));
  offer(fb, {0.2f}, 5, 0);
  offer(fb, {1.0f}, 5, 0);
  REQUIRE(fb.version() == 1);
  CHECK(fb.model()[0] == Approx(0.15).epsilon(1e-6));
  CHECK(std::string(fb.optimizer().kind()) == "fedadagrad");
}

TEST_CASE("fedbuff saved mid-buffer and loaded into a fresh one continues bit for bit",
          "[fedbuff]") {
  // fedadam keeps moments: its state travels with the buffer. Threshold 2 keeps 3 versions.
  async_config cfg = make_cfg(3, 2, delta_rule::base).cfg;
  auto adam = [](size_t dim) {
    return make_server_optimizer(server_optimizer_defaults("fedadam"), dim);
  };
  rng r{42};
  fedbuff a({0, 0, 0}, cfg, adam(3));
  // Four steps and one update into the fifth buffer (bases lag by up to 2 versions).
  for (int i = 0; i < 13; ++i) {
    const uint64_t v = a.version();
    const uint64_t base = v - std::min<uint64_t>(v, static_cast<uint64_t>(i % 3));
    a.offer({random_params(r, 3).data(), 3, static_cast<uint32_t>(1 + i % 4), base, 0.5});
  }
  REQUIRE(a.version() == 4);
  REQUIRE(a.stats().buffered == 1);
  a.take_records();
  byte_writer out;
  a.save(out);
  const auto bytes = out.take();
  fedbuff b({9, 9, 9}, cfg, adam(3));
  byte_reader in(bytes.data(), bytes.size(), "buffer");
  b.load(in);
  in.finish();
  CHECK(b.version() == 4);
  CHECK(b.model() == a.model());
  CHECK(b.stats().buffered == 1);
  CHECK(b.stats().total_updates == a.stats().total_updates);
  for (uint64_t v = 2; v <= 4; ++v) CHECK(*b.model_at(v) == *a.model_at(v));
  CHECK(b.model_at(1) == nullptr);
  // The same updates from here on give the same bytes, records and counts.
  for (int i = 0; i < 8; ++i) {
    const auto p = random_params(r, 3);
    const uint64_t base = a.version() - static_cast<uint64_t>(i % 3);
    CHECK(a.offer({p.data(), 3, 2, base, 0.25}) == b.offer({p.data(), 3, 2, base, 0.25}));
  }
  CHECK(a.model() == b.model());
  CHECK(a.version() == b.version());
  const auto ra = a.take_records(), rb = b.take_records();
  REQUIRE(ra.size() == rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    CHECK(ra[i].staleness_histogram == rb[i].staleness_histogram);
    CHECK(ra[i].mean_decay == rb[i].mean_decay);
    CHECK(ra[i].mean_loss == rb[i].mean_loss);
  }

  fedbuff other({0, 0}, cfg, adam(2));
  byte_reader in2(bytes.data(), bytes.size(), "buffer");
  CHECK_THROWS_WITH(other.load(in2), "buffer: a kept model of 3 values, expected 2");
}

namespace {

// A buffer over model (0, 0) with sgd at server_lr 1, threshold 1, constant staleness weight
// 0.5^s and robust settings `r`.
fedbuff robust_buffer(uint32_t buffer_size, const robust_config& r) {
  auto b = make_cfg(buffer_size, 1, delta_rule::base, 1.0);
  return fedbuff({0, 0}, b.cfg, sgd(1.0, 2), {}, 0, r);
}

offer_result offer_from(fedbuff& fb, uint32_t client, const std::vector<float>& params,
                        uint32_t n = 1, double loss = 0.0) {
  return fb.offer({params.data(), params.size(), n, fb.version(), loss, client});
}

robust_config bound_of(norm_bound_mode mode, double c, double quantile = 0, double lr = 0.2) {
  robust_config r;
  r.norm_bound.mode = mode;
  r.norm_bound.bound = c;
  r.norm_bound.target_quantile = quantile;
  r.norm_bound.lr = lr;
  return r;
}

robust_config rule_of(robust_rule_kind rule) {
  robust_config r;
  r.rule = rule;
  return r;
}

}  // namespace

TEST_CASE("fedbuff with a norm bound clip scales an update above it to norm C before folding",
          "[fedbuff][robust]") {
  auto fb = robust_buffer(2, bound_of(norm_bound_mode::clip, 5.0));
  CHECK(fb.norm_bound() == 5.0);
  CHECK(offer_from(fb, 0, {3, 4}) == offer_result::folded);      // norm 5: within
  CHECK(offer_from(fb, 1, {6, 8}) == offer_result::aggregated);  // norm 10 -> 0.5 · (6, 8)
  // Mean of (3, 4) and (3, 4); without the bound it would be (4.5, 6).
  CHECK(fb.model() == std::vector<float>{3, 4});
  CHECK(fb.stats().norm_clipped == 1);
  CHECK(fb.stats().norm_rejected == 0);
  CHECK(fb.stats().total_updates == 2);
  const auto recs = fb.take_records();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].norm_bound == 5.0);
  CHECK(recs[0].norm_clipped == 1);
  CHECK(recs[0].norm_rejected == 0);
  CHECK(fb.norm_bound() == 5.0);  // fixed
}

TEST_CASE("fedbuff with a norm bound reject refuses an update above it and counts it",
          "[fedbuff][robust]") {
  auto fb = robust_buffer(2, bound_of(norm_bound_mode::reject, 5.0));
  CHECK(offer_from(fb, 0, {3, 4}, 1) == offer_result::folded);  // norm 5: within
  CHECK(offer_from(fb, 1, {6, 8}, 1) == offer_result::out_of_bound);
  CHECK(fb.stats().buffered == 1);
  CHECK(fb.stats().rejected_updates == 1);
  CHECK(fb.stats().norm_rejected == 1);
  CHECK(offer_from(fb, 2, {0, 2}, 3) == offer_result::aggregated);
  // (1·(3, 4) + 3·(0, 2)) / 4 = (0.75, 2.5)
  CHECK(fb.model() == std::vector<float>{0.75f, 2.5f});
  const auto recs = fb.take_records();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].updates == 2);
  CHECK(recs[0].norm_rejected == 1);
  CHECK(recs[0].norm_clipped == 0);
  CHECK(fb.stats().total_updates == 2);
}

TEST_CASE("fedbuff refuses a non-finite update with robust settings on and never folds it",
          "[fedbuff][robust]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& r :
       {bound_of(norm_bound_mode::clip, 5.0), bound_of(norm_bound_mode::reject, 5.0),
        rule_of(robust_rule_kind::median), rule_of(robust_rule_kind::krum)}) {
    auto fb = robust_buffer(2, r);
    CHECK(offer_from(fb, 0, {nan, 1}) == offer_result::rejected);
    CHECK(offer_from(fb, 1, {1, inf}) == offer_result::rejected);
    CHECK(fb.stats().rejected_updates == 2);
    CHECK(fb.stats().norm_rejected == 0);  // not a norm verdict: refused before any
    CHECK(fb.stats().norm_clipped == 0);
    CHECK(fb.stats().buffered == 0);
    CHECK(fb.held() == 0);
    CHECK(offer_from(fb, 2, {1, 1}) == offer_result::folded);
    CHECK(offer_from(fb, 3, {3, 1}) == offer_result::aggregated);
    // Mean or median of (1, 1) and (3, 1): (2, 1); Krum of two picks the lower client id.
    CHECK(fb.model() ==
          (r.rule == robust_rule_kind::krum ? std::vector<float>{1, 1} : std::vector<float>{2, 1}));
  }
}

TEST_CASE("fedbuff moves an adaptive norm bound after each step from that buffer's fraction",
          "[fedbuff][robust]") {
  // C0 = 5, quantile 0.5, lr 0.2, clip. Buffer 1: norms 5 (within), 10 and 13 (clipped):
  // b = 1/3, C1 = 5 exp(-0.2 (1/3 - 0.5)).
  auto fb = robust_buffer(3, bound_of(norm_bound_mode::clip, 5.0, 0.5, 0.2));
  offer_from(fb, 0, {3, 4});
  offer_from(fb, 1, {6, 8});
  CHECK(fb.norm_bound() == 5.0);  // only a step moves it
  CHECK(offer_from(fb, 2, {5, 12}) == offer_result::aggregated);
  const double c1 = 5.0 * std::exp(-0.2 * (1.0 / 3.0 - 0.5));
  CHECK(fb.norm_bound() == c1);
  auto recs = fb.take_records();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].norm_bound == 5.0);  // the bound this buffer was held to
  CHECK(recs[0].norm_clipped == 2);
  // Buffer 2 is held to C1 ≈ 5.17: a norm of √(9 + 16.81) ≈ 5.08 is now within it, 20 is
  // clipped: b = 2/3 (within 2 of 3), C2 = C1 exp(-0.2 (2/3 - 0.5)).
  const auto& m = fb.model();
  auto plus = [&](float x, float y) { return std::vector<float>{m[0] + x, m[1] + y}; };
  offer_from(fb, 0, plus(3, 4.1f));
  offer_from(fb, 1, plus(0, 1));
  offer_from(fb, 2, plus(12, 16));
  recs = fb.take_records();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].norm_bound == c1);
  CHECK(recs[0].norm_clipped == 1);
  CHECK(fb.norm_bound() == c1 * std::exp(-0.2 * (2.0 / 3.0 - 0.5)));
  CHECK(fb.stats().norm_clipped == 3);
}

TEST_CASE("fedbuff with rule median, trimmed mean or krum steps with the rule over the buffer",
          "[fedbuff][robust]") {
  // Five updates (client, Δ) from model (0, 0), server_lr 1:
  //   4: (1, 10)  3: (2, 20)  2: (3, -5)  1: (100, 0)  0: (4, 2)
  // median: x 1 2 3 4 100 -> 3, y -5 0 2 10 20 -> 2.
  // trimmed mean β = 0.2 (t = 1): x (2 + 3 + 4) / 3 = 3, y (0 + 2 + 10) / 3 = 4.
  // Krum f = 1 (q = 5 - 1 - 2 = 2 nearest), squared distances:
  //   A(1,10)-B 101, A-C 229, A-D 9901, A-E 73, B-C 626, B-D 10004, B-E 328, C-D 9434,
  //   C-E 50, D-E 9220; scores A 174, B 429, C 279, D 18654, E 123.
  //   m = 1: E = (4, 2); m = 2: mean of E and A = (2.5, 6).
  const std::vector<std::pair<uint32_t, std::vector<float>>> updates = {
      {4, {1, 10}}, {3, {2, 20}}, {2, {3, -5}}, {1, {100, 0}}, {0, {4, 2}}};
  auto run = [&](robust_config r, const std::vector<size_t>& order) {
    auto fb = robust_buffer(5, r);
    for (size_t k = 0; k < order.size(); ++k) {
      const auto& [client, delta] = updates[order[k]];
      // Sample counts and losses differ: the rule does not weigh by them.
      const auto res = offer_from(fb, client, delta, 1 + 10 * client, 0.5);
      CHECK(res == (k + 1 < order.size() ? offer_result::folded : offer_result::aggregated));
      if (k + 2 == order.size()) CHECK(fb.held() == order.size() - 1);
    }
    CHECK(fb.held() == 0);
    CHECK(fb.version() == 1);
    return fb.model();
  };
  const std::vector<size_t> arrival = {0, 1, 2, 3, 4}, reversed = {4, 3, 2, 1, 0},
                            mixed = {2, 4, 0, 3, 1};
  for (const auto& order : {arrival, reversed, mixed}) {
    CHECK(run(rule_of(robust_rule_kind::median), order) == std::vector<float>{3, 2});
    auto trimmed = rule_of(robust_rule_kind::trimmed_mean);
    trimmed.trim = 0.2;
    CHECK(run(trimmed, order) == std::vector<float>{3, 4});
    auto krum = rule_of(robust_rule_kind::krum);
    krum.krum_f = 1;
    CHECK(run(krum, order) == std::vector<float>{4, 2});
    krum.krum_m = 2;
    CHECK(run(krum, order) == std::vector<float>{2.5f, 6});
  }
}

TEST_CASE("fedbuff with a rule and a norm bound clips before the rule and discards stale updates",
          "[fedbuff][robust]") {
  // Threshold 1: at version 1, an update from version 0 (s = 1) is held with its raw Δ against
  // model 0 (its staleness weight 0.5 does not enter the rule); at version 2 one from version
  // 0 (s = 2) is discarded.
  auto r = bound_of(norm_bound_mode::clip, 5.0);
  r.rule = robust_rule_kind::median;
  auto fb = robust_buffer(3, r);
  offer_from(fb, 0, {3, 4});
  offer_from(fb, 1, {3, 4});
  offer_from(fb, 2, {30, 40});  // clipped to (3, 4)
  REQUIRE(fb.model() == std::vector<float>{3, 4});
  // Version 1: two fresh updates and one from version 0.
  CHECK(fb.offer({std::vector<float>{4, 4}.data(), 2, 1, 1, 0.0, 5}) == offer_result::folded);
  CHECK(fb.offer({std::vector<float>{5, 4}.data(), 2, 1, 1, 0.0, 6}) == offer_result::folded);
  // Δ = (1, 2) - model 0 (0, 0) = (1, 2): median x of 1 2 1 -> 1, y of 0 0 2 -> 0.
  CHECK(fb.offer({std::vector<float>{1, 2}.data(), 2, 1, 0, 0.0, 7}) == offer_result::aggregated);
  CHECK(fb.model() == std::vector<float>{4, 4});
  // Version 2: an update from version 0 is stale (s = 2 > 1), discarded before the buffer.
  CHECK(fb.offer({std::vector<float>{9, 9}.data(), 2, 1, 0, 0.0, 8}) == offer_result::stale);
  CHECK(fb.held() == 0);
  CHECK(fb.stats().stale_updates == 1);
  const auto recs = fb.take_records();
  REQUIRE(recs.size() == 2);
  CHECK(recs[1].staleness_histogram == std::vector<uint32_t>{2, 1});
}

TEST_CASE("fedbuff refuses a pre-aggregated group with robust settings on", "[fedbuff][robust]") {
  auto fb = robust_buffer(2, rule_of(robust_rule_kind::median));
  weighted_accumulator sums(2);
  const std::vector<float> d = {1, 1};
  REQUIRE(sums.add(d.data(), 3.0, 0.0));
  CHECK(fb.offer_group(sums, 0, 1) == offer_result::rejected);
  CHECK(fb.stats().rejected_updates == 1);
}

TEST_CASE("fedbuff saved mid-buffer with an adaptive bound and held updates continues bit for bit",
          "[fedbuff][robust]") {
  auto r = bound_of(norm_bound_mode::reject, 1.0, 0.5, 0.3);
  r.rule = robust_rule_kind::trimmed_mean;
  r.trim = 0.25;
  auto cfg = make_cfg(4, 2, delta_rule::base).cfg;
  rng g{7};
  fedbuff a({0, 0, 0}, cfg, sgd(0.5, 3), {}, 0, r);
  uint32_t client = 0;
  auto next = [&](const fedbuff& fb) {
    auto p = random_params(g, 3);
    for (size_t i = 0; i < 3; ++i) p[i] += fb.model()[i];
    return p;
  };
  while (a.version() < 3 || a.held() != 2) {
    const auto p = next(a);
    a.offer({p.data(), 3, 1 + client % 3, a.version(), 0.5, client % 7});
    ++client;
    REQUIRE(client < 1000);
  }
  REQUIRE(a.norm_bound() != 1.0);
  REQUIRE(a.stats().norm_rejected > 0);
  byte_writer out;
  a.save(out);
  const auto bytes = out.take();
  fedbuff b({9, 9, 9}, cfg, sgd(0.5, 3), {}, 0, r);
  byte_reader in(bytes.data(), bytes.size(), "buffer");
  b.load(in);
  in.finish();
  CHECK(b.norm_bound() == a.norm_bound());
  CHECK(b.held() == 2);
  CHECK(b.stats().norm_rejected == a.stats().norm_rejected);
  CHECK(b.stats().norm_clipped == a.stats().norm_clipped);
  for (int i = 0; i < 20; ++i) {
    const auto p = next(a);
    const fedbuff_update u{p.data(), 3, 2, a.version(), 0.25, static_cast<uint32_t>(i % 5)};
    CHECK(a.offer(u) == b.offer(u));
  }
  CHECK(a.model() == b.model());
  CHECK(a.norm_bound() == b.norm_bound());
  // A buffer without the robust settings does not read their bytes.
  fedbuff plain({0, 0, 0}, cfg, sgd(0.5, 3));
  byte_reader in2(bytes.data(), bytes.size(), "buffer");
  plain.load(in2);
  CHECK_THROWS(in2.finish());
  // A fixed bound must be the scenario's.
  auto fixed = r;
  fixed.norm_bound.target_quantile = 0;
  fedbuff c({0, 0, 0}, cfg, sgd(0.5, 3), {}, 0, fixed);
  byte_reader in3(bytes.data(), bytes.size(), "buffer");
  CHECK_THROWS_WITH(c.load(in3), Catch::Contains("the fixed bound is 1"));
}

TEST_CASE("fedbuff measures the spread of each step's updates around their mean, by hand",
          "[fedbuff][adaptive]") {
  // buffer 2, threshold 1, decay 0.5^s, server lr 0.5.
  auto fb = make_buffer({0, 0}, make_cfg(2, 1, delta_rule::base));
  fb.measure_spread();
  // Step 1: Δ (1, 0) weight 1 and Δ (3, 0) weight 3. μ = (2.5, 0), ||μ||² = 6.25,
  // S/W = (1 + 27) / 4 = 7, var = 0.75, v = 0.75 / (2 × 6.25) = 0.06.
  offer(fb, {1, 0}, 1, 0);
  REQUIRE(offer(fb, {3, 0}, 3, 0) == offer_result::aggregated);
  REQUIRE(fb.model() == std::vector<float>{1.25f, 0});
  // Step 2: fresh Δ (2.25, 1) − (1.25, 0) = (1, 1) weight 2; stale (s = 1) Δ (1, 2) − (0, 0)
  // weight 4 × 0.5 = 2. μ = (1, 1.5), ||μ||² = 3.25, S/W = (2 × 2 + 2 × 5) / 4 = 3.5,
  // var = 0.25, v = 0.25 / (2 × 3.25) = 1/26.
  offer(fb, {2.25f, 1}, 2, 1);
  REQUIRE(offer(fb, {1, 2}, 4, 0) == offer_result::aggregated);
  const auto recs = fb.take_records();
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].spread_updates == 2);
  CHECK(recs[0].rel_var == Approx(0.06).epsilon(1e-12));
  CHECK(recs[1].spread_updates == 2);
  CHECK(recs[1].rel_var == Approx(1.0 / 26.0).epsilon(1e-12));
}

TEST_CASE("fedbuff spread is zero for equal updates and off unless asked for",
          "[fedbuff][adaptive]") {
  auto on = make_buffer({0, 0}, make_cfg(3, 0, delta_rule::current));
  on.measure_spread();
  auto off = make_buffer({0, 0}, make_cfg(3, 0, delta_rule::current));
  for (int i = 0; i < 3; ++i) {
    offer(on, {2, 4}, static_cast<uint32_t>(i + 1), 0);
    offer(off, {2, 4}, static_cast<uint32_t>(i + 1), 0);
  }
  CHECK(on.model() == off.model());
  const auto a = on.take_records(), b = off.take_records();
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].spread_updates == 3);
  CHECK(a[0].rel_var == 0.0);
  CHECK(b[0].spread_updates == 0);
}

TEST_CASE("fedbuff does not measure a pre-aggregated group's members", "[fedbuff][adaptive]") {
  auto fb = make_buffer({0, 0}, make_cfg(3, 0, delta_rule::base));
  fb.measure_spread();
  offer(fb, {1, 1}, 1, 0);
  weighted_accumulator sums(2);
  const std::vector<float> d{2, 2};
  sums.add(d.data(), 1, 0.0);
  sums.add(d.data(), 1, 0.0);
  REQUIRE(fb.offer_group(sums, 0, 2) == offer_result::aggregated);
  const auto recs = fb.take_records();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].updates == 3);
  CHECK(recs[0].spread_updates == 1);
}

TEST_CASE("fedbuff saved mid-buffer keeps its spread sums and continues with the same record",
          "[fedbuff][adaptive]") {
  const auto b = make_cfg(2, 1, delta_rule::base);
  auto a = make_buffer({0, 0}, b);
  a.measure_spread();
  offer(a, {1, 0}, 1, 0);
  byte_writer out;
  a.save(out);
  const auto bytes = out.take();
  auto c = make_buffer({0, 0}, b);
  c.measure_spread();
  byte_reader in(bytes.data(), bytes.size(), "buffer");
  c.load(in);
  in.finish();
  offer(a, {3, 0}, 3, 0);
  offer(c, {3, 0}, 3, 0);
  const auto ra = a.take_records(), rc = c.take_records();
  REQUIRE(ra.size() == 1);
  REQUIRE(rc.size() == 1);
  CHECK(rc[0].spread_updates == 2);
  CHECK(rc[0].rel_var == ra[0].rel_var);
  CHECK(rc[0].rel_var == Approx(0.06).epsilon(1e-12));
  // A buffer that does not measure cannot read them (trailing bytes).
  auto d = make_buffer({0, 0}, b);
  byte_reader in2(bytes.data(), bytes.size(), "buffer");
  d.load(in2);
  CHECK_THROWS_AS(in2.finish(), checkpoint_error);
}
