#include "runtime/strategy/fedadam.hpp"

#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/accumulator.hpp"

using namespace fedactor;

namespace {

// η = 0.5, β₁ = 0.5, β₂ = 0.75, τ = 0.25: small dyadic numbers, so value 0 below is exact.
server_optimizer_config small_config(bool bias_correction) {
  server_optimizer_config cfg = server_optimizer_defaults("fedadam");
  cfg.server_lr = 0.5;
  cfg.beta1 = 0.5;
  cfg.beta2 = 0.75;
  cfg.tau = 0.25;
  cfg.bias_correction = bias_correction;
  return cfg;
}

const std::vector<std::vector<float>> deltas = {{0.5f, 0.1f}, {0.25f, -0.3f}, {0.25f, 0.2f}};

}  // namespace

TEST_CASE("fedadam defaults are Flower's: eta 0.1, betas 0.9 and 0.99, tau 1e-3, bias corrected",
          "[strategy]") {
  const server_optimizer_config cfg = server_optimizer_defaults("fedadam");
  CHECK(cfg.kind == "fedadam");
  CHECK(cfg.server_lr == 0.1);
  CHECK(cfg.beta1 == 0.9);
  CHECK(cfg.beta2 == 0.99);
  CHECK(cfg.tau == 1e-3);
  CHECK(cfg.bias_correction);
}

TEST_CASE("fedadam without bias correction follows Reddi et al. over three steps", "[strategy]") {
  // m = β₁m + (1−β₁)Δ, v = β₂v + (1−β₂)Δ², w ← w + η·m/(√v + τ); w₀ = (1, 0).
  // value 0, Δ = 0.5, 0.25, 0.25:
  //   t=1: m = 0.25, v = 0.25·0.25 = 0.0625, √v = 0.25, w = 1 + 0.5·0.25/0.5 = 1.25
  //   t=2: m = 0.125 + 0.125 = 0.25, v = 0.75·0.0625 + 0.25·0.0625 = 0.0625, w = 1.5
  //   t=3: the same again, w = 1.75
  // value 1, Δ = 0.1, −0.3, 0.2:
  //   t=1: m = 0.05, v = 0.0025, √v = 0.05, w = 0.5·0.05/0.3 = 0.0833333
  //   t=2: m = 0.025 − 0.15 = −0.125, v = 0.001875 + 0.0225 = 0.024375, √v = 0.156125,
  //        w = 0.0833333 − 0.0625/0.406125 = 0.0833333 − 0.1538935 = −0.0705602
  //   t=3: m = −0.0625 + 0.1 = 0.0375, v = 0.01828125 + 0.01 = 0.02828125, √v = 0.1681703,
  //        w = −0.0705602 + 0.01875/0.4181703 = −0.0705602 + 0.0448382 = −0.0257220
  fedadam_optimizer opt(small_config(false), 2);
  std::vector<float> w = {1.0f, 0.0f};
  const float exact[3] = {1.25f, 1.5f, 1.75f};
  const double approx[3] = {0.0833333, -0.0705602, -0.0257220};
  for (size_t t = 0; t < 3; ++t) {
    opt.step(w.data(), deltas[t].data(), w.data(), 2);
    CHECK(w[0] == exact[t]);
    CHECK(w[1] == Approx(approx[t]).margin(1e-7));
  }
  CHECK(opt.first_moment()[0] == 0.25);
  CHECK(opt.second_moment()[0] == 0.0625);
}

TEST_CASE("fedadam bias correction scales the step by sqrt(1 - beta2^t) / (1 - beta1^t)",
          "[strategy]") {
  // ηₜ = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ) with t = the step count (1 at the first step):
  //   t=1: 0.5·√0.25/0.5            = 0.5 (= η: the first corrected step is η·Δ/(|Δ| + τ'))
  //   t=2: 0.5·√0.4375/0.75         = 0.5·0.6614378/0.75 = 0.4409586
  //   t=3: 0.5·√0.578125/0.875      = 0.5·0.7603453/0.875 = 0.4344830
  // Same moments as without correction; value 0:
  //   w₁ = 1.25 (η₁ = η), w₂ = 1.25 + 0.4409586·0.5 = 1.4704793, w₃ = w₂ + 0.4344830·0.5
  //   = 1.6877208
  // value 1: w₁ = 0.0833333, w₂ = 0.0833333 − 0.4409586·0.125/0.406125 = −0.0523880,
  //          w₃ = −0.0523880 + 0.4344830·0.0375/0.4181703 = −0.0134251
  fedadam_optimizer opt(small_config(true), 2);
  CHECK(opt.step_size(1) == 0.5);
  CHECK(opt.step_size(2) == Approx(0.4409586).margin(1e-7));
  CHECK(opt.step_size(3) == Approx(0.4344830).margin(1e-7));
  std::vector<float> w = {1.0f, 0.0f};
  const double v0[3] = {1.25, 1.4704793, 1.6877208};
  const double v1[3] = {0.0833333, -0.0523880, -0.0134251};
  for (size_t t = 0; t < 3; ++t) {
    opt.step(w.data(), deltas[t].data(), w.data(), 2);
    CHECK(w[0] == Approx(v0[t]).margin(2e-7));
    CHECK(w[1] == Approx(v1[t]).margin(2e-7));
  }
}

TEST_CASE("fedadam with bias correction off has a constant step size", "[strategy]") {
  fedadam_optimizer opt(small_config(false), 1);
  CHECK(opt.step_size(1) == 0.5);
  CHECK(opt.step_size(50) == 0.5);
}

TEST_CASE("fedadam on Flower's scalar test with its defaults", "[strategy]") {
  // flwr/serverapp/strategy/fedopt_test.py: current 0, replies 1.0 (1 sample) and 3.0
  // (2 samples): mean 7/3, Δ = 2.3333333 (float). Defaults η 0.1, β 0.9/0.99, τ 1e-3, t = 1:
  //   η₁ = 0.1·√0.01/0.1 = 0.1, m = 0.1·Δ = 0.2333333, v = 0.01·Δ² = 0.0544444, √v = 0.2333333
  //   w = 0.1·0.2333333/(0.2333333 + 0.001) = 0.0995733
  // (Flower itself takes t = server_round + 1 = 2 here: η·0.7424598, w = 0.0739292.)
  const std::vector<float> current = {0.0f};
  weighted_accumulator acc(1);
  const float one = 1.0f, three = 3.0f;
  REQUIRE(acc.add_difference(&one, current.data(), 1));
  REQUIRE(acc.add_difference(&three, current.data(), 2));
  const std::vector<float> delta = acc.mean();
  CHECK(delta[0] == Approx(7.0 / 3.0).epsilon(1e-7));
  fedadam_optimizer opt(server_optimizer_defaults("fedadam"), 1);
  std::vector<float> next(1);
  opt.step(current.data(), delta.data(), next.data(), 1);
  CHECK(next[0] == Approx(0.0995733).margin(1e-7));
}

TEST_CASE("fedadam refuses beta2 of 1 and tau of 0", "[strategy]") {
  server_optimizer_config cfg = small_config(true);
  cfg.beta2 = 1.0;
  CHECK_THROWS_WITH(fedadam_optimizer(cfg, 1), "strategy.beta2 must be in [0, 1), got 1");
  cfg = small_config(true);
  cfg.tau = 0.0;
  CHECK_THROWS_WITH(fedadam_optimizer(cfg, 1), "strategy.tau must be a finite number > 0, got 0");
}
