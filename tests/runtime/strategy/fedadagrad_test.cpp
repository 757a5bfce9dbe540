#include "runtime/strategy/fedadagrad.hpp"

#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/accumulator.hpp"

using namespace fedactor;

namespace {

server_optimizer_config adagrad_config(double eta, double beta1, double tau) {
  server_optimizer_config cfg = server_optimizer_defaults("fedadagrad");
  cfg.server_lr = eta;
  cfg.beta1 = beta1;
  cfg.tau = tau;
  return cfg;
}

}  // namespace

TEST_CASE("fedadagrad defaults are Flower's: eta 0.1, beta1 0, tau 1e-3", "[strategy]") {
  const server_optimizer_config cfg = server_optimizer_defaults("fedadagrad");
  CHECK(cfg.kind == "fedadagrad");
  CHECK(cfg.server_lr == 0.1);
  CHECK(cfg.beta1 == 0.0);
  CHECK(cfg.tau == 1e-3);
}

TEST_CASE("fedadagrad reproduces Flower's test: 0.1 with clients 0.2 and 1.0 gives 0.15",
          "[strategy]") {
  // flwr/server/strategy/fedadagrad_test.py: w = 0.1 (4 values), clients 0.2 and 1.0 with 5
  // samples each, η = 0.1, τ = 0.5: mean 0.6, Δ = 0.5, m = Δ = 0.5 (β₁ = 0), v = 0.25,
  // w = 0.1 + 0.1·0.5/(0.5 + 0.5) = 0.15, compared for equality as float32 by Flower.
  // In double: 0.1f = 0.10000000149, + 0.05 = 0.15000000149, which rounds to 0.15f.
  const std::vector<float> current(4, 0.1f);
  const std::vector<float> c0(4, 0.2f), c1(4, 1.0f);
  weighted_accumulator acc(4);
  REQUIRE(acc.add_difference(c0.data(), current.data(), 5));
  REQUIRE(acc.add_difference(c1.data(), current.data(), 5));
  const std::vector<float> delta = acc.mean();
  fedadagrad_optimizer opt(adagrad_config(0.1, 0.0, 0.5), 4);
  std::vector<float> next(4);
  opt.step(current.data(), delta.data(), next.data(), 4);
  CHECK(next == std::vector<float>(4, 0.15f));
}

TEST_CASE("fedadagrad sums squared deltas over three hand-computed steps", "[strategy]") {
  // η = 0.75, τ = 0.25, β₁ = 0 (m = Δ), w₀ = 1, Δ = 0.75, 1, −3:
  //   t=1: v = 0.5625, √v = 0.75,  w = 1 + 0.75·0.75/1       = 1.5625
  //   t=2: v = 1.5625, √v = 1.25,  w = 1.5625 + 0.75·1/1.5   = 2.0625
  //   t=3: v = 10.5625, √v = 3.25, w = 2.0625 − 0.75·3/3.5   = 1.4196429
  fedadagrad_optimizer opt(adagrad_config(0.75, 0.0, 0.25), 1);
  float w = 1.0f;
  const float deltas[3] = {0.75f, 1.0f, -3.0f};
  const double v[3] = {0.5625, 1.5625, 10.5625};
  opt.step(&w, &deltas[0], &w, 1);
  CHECK(w == 1.5625f);
  CHECK(opt.second_moment()[0] == v[0]);
  opt.step(&w, &deltas[1], &w, 1);
  CHECK(w == 2.0625f);
  CHECK(opt.second_moment()[0] == v[1]);
  opt.step(&w, &deltas[2], &w, 1);
  CHECK(w == Approx(1.4196429).margin(1e-7));
  CHECK(opt.second_moment()[0] == v[2]);
}

TEST_CASE("fedadagrad with beta1 set keeps a first moment as Reddi et al. allow", "[strategy]") {
  // As above with β₁ = 0.5: m = 0.5m + 0.5Δ.
  //   t=1: m = 0.375,                 w = 1 + 0.75·0.375/1          = 1.28125
  //   t=2: m = 0.1875 + 0.5 = 0.6875, w = 1.28125 + 0.75·0.6875/1.5 = 1.625
  //   t=3: m = 0.34375 − 1.5 = −1.15625, w = 1.625 − 0.75·1.15625/3.5 = 1.3772321
  fedadagrad_optimizer opt(adagrad_config(0.75, 0.5, 0.25), 1);
  float w = 1.0f;
  const float deltas[3] = {0.75f, 1.0f, -3.0f};
  opt.step(&w, &deltas[0], &w, 1);
  CHECK(w == 1.28125f);
  opt.step(&w, &deltas[1], &w, 1);
  CHECK(w == 1.625f);
  opt.step(&w, &deltas[2], &w, 1);
  CHECK(w == Approx(1.3772321).margin(1e-7));
  CHECK(opt.first_moment()[0] == -1.15625);
}

TEST_CASE("fedadagrad on Flower's scalar test with its defaults", "[strategy]") {
  // Current 0, Δ = 7/3 (2.3333333 as float), η 0.1, τ 1e-3, m = Δ, v = Δ²:
  //   w = 0.1·2.3333333/(2.3333333 + 0.001) = 0.0999572
  const float current = 0.0f;
  const float delta = static_cast<float>(7.0 / 3.0);
  fedadagrad_optimizer opt(server_optimizer_defaults("fedadagrad"), 1);
  float next = 0;
  opt.step(&current, &delta, &next, 1);
  CHECK(next == Approx(0.0999572).margin(1e-7));
}
