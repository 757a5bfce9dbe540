// Tests of runtime/privacy/dp_fedavg.*: the server side of DP-FedAvg with hand-computed
// releases, adaptive clipping steps and accountant totals, and its noise stream (seed, round).

#include "runtime/privacy/dp_fedavg.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

privacy_config dp(double clip, double z) {
  privacy_config c;
  c.mode = privacy_mode::dp_fedavg;
  c.clip = clip;
  c.noise_multiplier = z;
  c.delta = 1e-5;
  return c;
}

// Two clipped updates (1.5, 2) and (3, -4), weight 1 each.
weighted_accumulator two_updates() {
  weighted_accumulator acc(2);
  const std::vector<float> a{1.5f, 2.0f}, b{3.0f, -4.0f};
  REQUIRE(acc.add(a.data(), 1.0));
  REQUIRE(acc.add(b.data(), 1.0));
  return acc;
}

}  // namespace

TEST_CASE("dp_fedavg without noise releases the sum over the clients per round, not the mean",
          "[privacy]") {
  dp_fedavg d(dp(5, 0), 7, 4);
  std::vector<float> out(2);
  d.release(two_updates(), 1, out.data());
  // (1.5 + 3, 2 − 4) / k = (4.5, −2) / 4: the fixed denominator k = 4, though 2 updates came.
  CHECK(out == std::vector<float>{1.125f, -0.5f});
  const auto r = d.end_round(1, 2, 0.1);
  CHECK(r.clip == 5);
  CHECK(r.noise_std == 0);
  CHECK(r.next_clip == 5);                                      // fixed clipping
  CHECK(r.epsilon == std::numeric_limits<double>::infinity());  // no noise: no guarantee
  CHECK(r.delta == 1e-5);
}

TEST_CASE("dp_fedavg adds z·C Gaussian noise from the stream of (seed, round)", "[privacy]") {
  dp_fedavg d(dp(2, 1.5), 7, 4);
  CHECK(d.update_noise_multiplier() == 1.5);
  std::vector<float> out(2);
  d.release(two_updates(), 3, out.data());
  // noise_i = 1.5 · 2 · g_i, g the standard normals of rng{stream_key(7, dp_noise, 3)}.
  rng g(stream_key(7, rng_tag::dp_noise, 3));
  const double g0 = g.normal(), g1 = g.normal();
  CHECK(out[0] == static_cast<float>((4.5 + 3.0 * g0) / 4));
  CHECK(out[1] == static_cast<float>((-2.0 + 3.0 * g1) / 4));
  // The same round gives the same noise (a resumed run), another round other noise.
  std::vector<float> again(2), other(2);
  d.release(two_updates(), 3, again.data());
  d.release(two_updates(), 4, other.data());
  CHECK(again == out);
  CHECK(other != out);
  dp_fedavg other_seed(dp(2, 1.5), 8, 4);
  other_seed.release(two_updates(), 3, other.data());
  CHECK(other != out);
}

TEST_CASE("dp_fedavg accounts one sampled Gaussian step of rate q and multiplier z per round",
          "[privacy]") {
  dp_fedavg d(dp(1, 1.1), 7, 100);
  d.end_round(1, 0, 0.1);
  d.end_round(2, 0, 0.1);
  const auto r = d.end_round(3, 0, 0.05);
  auto rdp = sgm_rdp(0.1, 1.1, 2, default_rdp_orders());
  const auto third = sgm_rdp(0.05, 1.1, 1, default_rdp_orders());
  for (size_t i = 0; i < rdp.size(); ++i) rdp[i] += third[i];
  CHECK(d.accountant().rdp() == rdp);
  CHECK(r.epsilon == epsilon_for_delta(default_rdp_orders(), rdp, 1e-5).epsilon);
  CHECK(r.epsilon == d.spent().epsilon);
  CHECK(r.epsilon > 0);
}

TEST_CASE("dp_fedavg adaptive clipping moves C geometrically toward the target quantile",
          "[privacy]") {
  auto cfg = dp(1, 0);  // no noise anywhere: b̃ is the exact unclipped fraction
  cfg.clipping = clipping_kind::adaptive;
  cfg.target_quantile = 0.5;
  cfg.clip_lr = 0.2;
  cfg.quantile_noise = 0;
  dp_fedavg d(cfg, 7, 4);
  // 3 of 4 unclipped: b̃ = 0.75, C = 1·exp(−0.2·(0.75 − 0.5)) = exp(−0.05).
  auto r = d.end_round(1, 3, 1);
  CHECK(r.clip == 1);
  CHECK(r.next_clip == std::exp(-0.05));
  CHECK(d.clip() == std::exp(-0.05));
  // 1 of 4: b̃ = 0.25, C = exp(−0.05)·exp(0.05).
  r = d.end_round(2, 1, 1);
  CHECK(r.next_clip == Approx(1.0).epsilon(1e-15));
  // 2 of 4: on target, C stays.
  const double before = d.clip();
  d.end_round(3, 2, 1);
  CHECK(d.clip() == before);
}

TEST_CASE("dp_fedavg adaptive clipping noises the count and raises the update noise to keep z",
          "[privacy]") {
  auto cfg = dp(0.5, 1.0);
  cfg.clipping = clipping_kind::adaptive;
  cfg.target_quantile = 0.6;
  cfg.clip_lr = 0.1;
  cfg.quantile_noise = 5;
  dp_fedavg d(cfg, 11, 100);
  // z_Δ = (1⁻² − (2·5)⁻²)^(−1/2) = (0.99)^(−1/2) (Andrew et al. 2021, Theorem 1).
  CHECK(d.update_noise_multiplier() == Approx(1.0050378152592121).epsilon(1e-15));
  const auto r = d.end_round(2, 70, 0.1);
  CHECK(r.noise_std == Approx(0.5 * 1.0050378152592121).epsilon(1e-15));
  // b̃ = (70 + 5·g) / 100, g the first normal of rng{stream_key(11, dp_count, 2)}.
  rng g(stream_key(11, rng_tag::dp_count, 2));
  const double b = (70 + 5 * g.normal()) / 100;
  CHECK(r.next_clip == 0.5 * std::exp(-0.1 * (b - 0.6)));
  // The accountant charges z = 1, the round's total.
  CHECK(d.accountant().rdp() == sgm_rdp(0.1, 1.0, 1, default_rdp_orders()));
}

TEST_CASE("dp_fedavg refuses what validate refuses", "[privacy]") {
  CHECK_THROWS_AS(dp_fedavg(privacy_config{}, 1, 10), std::invalid_argument);  // mode off
  CHECK_THROWS_AS(dp_fedavg(dp(1, 1), 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(dp_fedavg(dp(0, 1), 1, 10), std::invalid_argument);
  auto cfg = dp(1, 2);
  cfg.clipping = clipping_kind::adaptive;
  cfg.quantile_noise = 1;  // 2σ_b = z: no noise left for the updates
  CHECK_THROWS_AS(dp_fedavg(cfg, 1, 10), std::invalid_argument);
}

TEST_CASE("dp_fedavg state round-trips through bytes and refuses broken ones", "[privacy]") {
  auto cfg = dp(1, 1);
  cfg.clipping = clipping_kind::adaptive;
  dp_fedavg a(cfg, 3, 10);
  a.end_round(1, 9, 0.1);
  a.end_round(2, 2, 0.1);
  dp_fedavg b(cfg, 3, 10);
  b.load_state(a.save_state(), "ck");
  CHECK(b.clip() == a.clip());
  CHECK(b.accountant().rdp() == a.accountant().rdp());
  CHECK(b.end_round(3, 5, 0.1).next_clip == a.end_round(3, 5, 0.1).next_clip);

  auto bytes = a.save_state();
  bytes.push_back(1);
  CHECK_THROWS_WITH(b.load_state(bytes, "ck"), Catch::Contains("ck"));
  auto zero = a.save_state();
  for (size_t i = 0; i < 8; ++i) zero[i] = 0;  // C = 0
  CHECK_THROWS_WITH(b.load_state(zero, "ck"), Catch::Contains("clip bound"));
  CHECK_THROWS_AS(b.load_state({}, "ck"), checkpoint_error);
  CHECK(b.clip() == a.clip());
}
