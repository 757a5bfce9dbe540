#include "runtime/strategy/fedyogi.hpp"

#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

server_optimizer_config small_config() {
  server_optimizer_config cfg = server_optimizer_defaults("fedyogi");
  cfg.server_lr = 0.5;
  cfg.beta1 = 0.5;
  cfg.beta2 = 0.75;
  cfg.tau = 0.25;
  return cfg;
}

}  // namespace

TEST_CASE("fedyogi defaults are Flower's: eta 0.01, betas 0.9 and 0.99, tau 1e-3", "[strategy]") {
  const server_optimizer_config cfg = server_optimizer_defaults("fedyogi");
  CHECK(cfg.kind == "fedyogi");
  CHECK(cfg.server_lr == 0.01);
  CHECK(cfg.beta1 == 0.9);
  CHECK(cfg.beta2 == 0.99);
  CHECK(cfg.tau == 1e-3);
}

TEST_CASE("fedyogi second moment grows, holds and shrinks by the sign rule", "[strategy]") {
  // η = 0.5, β₁ = 0.5, β₂ = 0.75, τ = 0.25; v ← v − (1−β₂)·Δ²·sign(v − Δ²), w ← w + η·m/(√v+τ).
  // value 0, w₀ = 1, Δ = 0.5, 0.25, 0.375:
  //   t=1: v = 0 − 0.25·0.25·sign(−0.25) = 0.0625 (grows), m = 0.25, w = 1 + 0.5·0.25/0.5 = 1.25
  //   t=2: Δ² = 0.0625 = v, sign 0: v holds at 0.0625, m = 0.25, w = 1.5
  //   t=3: Δ² = 0.140625 > v: v = 0.0625 + 0.25·0.140625 = 0.09765625 (√ = 0.3125),
  //        m = 0.125 + 0.1875 = 0.3125, w = 1.5 + 0.5·0.3125/0.5625 = 1.7777778
  // value 1, w₀ = 0, Δ = 1, 0.25, 0:
  //   t=1: v = 0.25, m = 0.5, w = 0.5·0.5/0.75 = 0.3333333
  //   t=2: Δ² = 0.0625 < v: v = 0.25 − 0.25·0.0625 = 0.234375 (shrinks; Adam: 0.203125),
  //        m = 0.375, w = 0.3333333 + 0.1875/(0.4841229 + 0.25) = 0.5887402
  //   t=3: Δ = 0: v − 0 > 0 but (1−β₂)·0 = 0, v holds; m = 0.1875,
  //        w = 0.5887402 + 0.09375/0.7341229 = 0.7164436
  fedyogi_optimizer opt(small_config(), 2);
  std::vector<float> w = {1.0f, 0.0f};
  const std::vector<std::vector<float>> deltas = {{0.5f, 1.0f}, {0.25f, 0.25f}, {0.375f, 0.0f}};
  const double v0[3] = {0.0625, 0.0625, 0.09765625};
  const double v1[3] = {0.25, 0.234375, 0.234375};
  const double w0[3] = {1.25, 1.5, 1.7777778};
  const double w1[3] = {0.3333333, 0.5887402, 0.7164436};
  for (size_t t = 0; t < 3; ++t) {
    opt.step(w.data(), deltas[t].data(), w.data(), 2);
    CHECK(opt.second_moment()[0] == v0[t]);
    CHECK(opt.second_moment()[1] == v1[t]);
    CHECK(w[0] == Approx(w0[t]).margin(1e-7));
    CHECK(w[1] == Approx(w1[t]).margin(1e-7));
  }
  CHECK(opt.first_moment() == std::vector<double>{0.3125, 0.1875});
}

TEST_CASE("fedyogi on Flower's scalar test with its defaults", "[strategy]") {
  // Current 0, Δ = 7/3 (2.3333333 as float), η 0.01, β 0.9/0.99, τ 1e-3: the first step's v
  // is Adam's, 0 − 0.01·Δ²·sign(−Δ²) = 0.0544444, m = 0.2333333,
  // w = 0.01·0.2333333/(0.2333333 + 0.001) = 0.0099573.
  const float current = 0.0f;
  const float delta = static_cast<float>(7.0 / 3.0);
  fedyogi_optimizer opt(server_optimizer_defaults("fedyogi"), 1);
  float next = 0;
  opt.step(&current, &delta, &next, 1);
  CHECK(next == Approx(0.0099573).margin(1e-7));
}
