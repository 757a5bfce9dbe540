#include "runtime/strategy/fedavgm.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/accumulator.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/strategy/sgd.hpp"
#include "runtime/strategy/state_bytes.hpp"

using namespace fedactor;

namespace {

server_optimizer_config fedavgm_config(double lr, double momentum) {
  server_optimizer_config cfg = server_optimizer_defaults("fedavgm");
  cfg.server_lr = lr;
  cfg.momentum = momentum;
  return cfg;
}

// The server's mean delta: Σ nᵢ·(clientᵢ − current) / Σ nᵢ through the exact accumulator.
std::vector<float> mean_delta(const std::vector<float>& current,
                              const std::vector<std::pair<std::vector<float>, double>>& clients) {
  weighted_accumulator acc(current.size());
  for (const auto& [params, n] : clients)
    REQUIRE(acc.add_difference(params.data(), current.data(), n));
  return acc.mean();
}

}  // namespace

TEST_CASE("fedavgm defaults are server_lr 1 and momentum 0.9", "[strategy]") {
  const server_optimizer_config cfg = server_optimizer_defaults("fedavgm");
  CHECK(cfg.kind == "fedavgm");
  CHECK(cfg.server_lr == 1.0);
  CHECK(cfg.momentum == 0.9);
}

TEST_CASE("fedavgm accumulates momentum over three hand-computed steps", "[strategy]") {
  // η = 0.5, μ = 0.5, w₀ = (1, 0); v₁ = Δ₁, then vₜ = μ·vₜ₋₁ + Δₜ; w ← w + η·v.
  //   value 0: Δ = 1, 0.5, −1
  //     v₁ = 1                  w₁ = 1 + 0.5·1       = 1.5
  //     v₂ = 0.5·1 + 0.5 = 1    w₂ = 1.5 + 0.5·1     = 2
  //     v₃ = 0.5·1 − 1 = −0.5   w₃ = 2 + 0.5·(−0.5)  = 1.75
  //   value 1: Δ = 0.25, 0, 0 (momentum keeps moving a value whose delta stopped)
  //     v₁ = 0.25               w₁ = 0.125
  //     v₂ = 0.125              w₂ = 0.1875
  //     v₃ = 0.0625             w₃ = 0.21875
  fedavgm_optimizer opt(fedavgm_config(0.5, 0.5), 2);
  std::vector<float> w = {1.0f, 0.0f};
  const std::vector<std::vector<float>> deltas = {{1.0f, 0.25f}, {0.5f, 0.0f}, {-1.0f, 0.0f}};
  const std::vector<std::vector<float>> expected = {
      {1.5f, 0.125f}, {2.0f, 0.1875f}, {1.75f, 0.21875f}};
  for (size_t t = 0; t < 3; ++t) {
    opt.step(w.data(), deltas[t].data(), w.data(), 2);
    CHECK(w == expected[t]);
    CHECK(opt.steps() == t + 1);
  }
  CHECK(opt.momentum_buffer() == std::vector<double>{-0.5, 0.0625});
}

TEST_CASE("fedavgm with momentum 0 is bit-identical to sgd", "[strategy]") {
  const size_t dim = 500;
  rng r(stream_key(7, 0x61766d));
  fedavgm_optimizer m(fedavgm_config(0.7, 0.0), dim);
  server_optimizer_config scfg = server_optimizer_defaults("sgd");
  scfg.server_lr = 0.7;
  sgd_optimizer s(scfg, dim);
  std::vector<float> wm(dim), ws(dim), d(dim);
  for (auto& x : wm) x = static_cast<float>(r.normal());
  ws = wm;
  for (int t = 0; t < 4; ++t) {
    for (auto& x : d) x = static_cast<float>(0.1 * r.normal());
    m.step(wm.data(), d.data(), wm.data(), dim);
    s.step(ws.data(), d.data(), ws.data(), dim);
    REQUIRE(std::memcmp(wm.data(), ws.data(), dim * sizeof(float)) == 0);
  }
}

TEST_CASE("fedavgm reproduces Flower's near-one lr and near-zero momentum test", "[strategy]") {
  // flwr/server/strategy/fedavgm_test.py: initial zeros, two clients (1 and 2 samples) both
  // sending W = ([1..6], [7..10]); server_learning_rate 1 + 1e-9, server_momentum 1e-9, two
  // rounds; expected W. Here exactly W:
  //   round 1: Δ = W, v = W, w = float((1 + 1e-9)·W) = W (1e-9 is far below half a float ulp)
  //   round 2: Δ = W − W = 0, v = 1e-9·W, w = float(W + (1 + 1e-9)·1e-9·W) = W
  const std::vector<float> W = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  fedavgm_optimizer opt(fedavgm_config(1.0 + 1e-9, 1e-9), W.size());
  std::vector<float> w(W.size(), 0.0f);
  for (int round = 1; round <= 2; ++round) {
    const std::vector<float> d = mean_delta(w, {{W, 1.0}, {W, 2.0}});
    opt.step(w.data(), d.data(), w.data(), w.size());
    CHECK(w == W);
  }
}

TEST_CASE("fedavgm reproduces Flower's newer test with two different clients", "[strategy]") {
  // flwr/serverapp/strategy/fedavgm_test.py: clients A = ([1..6], [7, 8, 9, 10]) with 1 sample
  // and B = ([29, 23, 19, 17, 13, 11], [7, 5, 3, 2]) with 2; expected (A + 2B)/3 to 5 decimals
  // after two rounds (lr 1 + 1e-9, momentum 1e-9). Round 2's delta is ~0, so w stays there.
  const std::vector<float> A = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<float> B = {29, 23, 19, 17, 13, 11, 7, 5, 3, 2};
  fedavgm_optimizer opt(fedavgm_config(1.0 + 1e-9, 1e-9), A.size());
  std::vector<float> w(A.size(), 0.0f);
  for (int round = 1; round <= 2; ++round) {
    const std::vector<float> d = mean_delta(w, {{A, 1.0}, {B, 2.0}});
    opt.step(w.data(), d.data(), w.data(), w.size());
  }
  for (size_t i = 0; i < A.size(); ++i)
    CHECK(w[i] == Approx((A[i] + 2.0 * B[i]) / 3.0).margin(1e-5));
}

TEST_CASE("fedavgm refuses bad momentum and a state with a non-finite momentum value",
          "[strategy]") {
  CHECK_THROWS_WITH(fedavgm_optimizer(fedavgm_config(1.0, 1.0), 2),
                    "strategy.momentum must be in [0, 1), got 1");
  CHECK_THROWS_WITH(fedavgm_optimizer(fedavgm_config(1.0, -0.1), 2),
                    "strategy.momentum must be in [0, 1), got -0.1");
  fedavgm_optimizer opt(fedavgm_config(1.0, 0.9), 2);
  state_writer w("fedavgm", 2);
  w.put_u64(3);
  w.put_f64(0.5);
  w.put_f64(std::numeric_limits<double>::infinity());
  const std::vector<char> bad = w.take();
  CHECK_THROWS_WITH(opt.load_state(bad.data(), bad.size()),
                    "server optimizer state: fedavgm momentum value 1 is not finite");
  CHECK(opt.steps() == 0);  // unchanged
  const std::vector<char> truncated(bad.begin(), bad.end() - 4);
  CHECK_THROWS_WITH(opt.load_state(truncated.data(), truncated.size()),
                    "server optimizer state: truncated: no room for the momentum values (2 "
                    "values of 8 bytes at offset 35, 12 bytes left)");
}
