#include "runtime/timing/device_profile.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("device profile is a pure function of config, seed and client id", "[timing]") {
  devices_config cfg;
  cfg.compute_power.kind = power_kind::lognormal;
  for (uint64_t id : {0ull, 1ull, 999999ull}) {
    const auto a = make_device_profile(cfg, 7, id);
    const auto b = make_device_profile(cfg, 7, id);
    CHECK(a.compute_power == b.compute_power);
    CHECK(a.bandwidth_mbps == b.bandwidth_mbps);
    CHECK(a.latency_s == b.latency_s);
  }
  const auto x = make_device_profile(cfg, 7, 1);
  CHECK(make_device_profile(cfg, 7, 2).compute_power != x.compute_power);
  CHECK(make_device_profile(cfg, 8, 1).compute_power != x.compute_power);
  CHECK(make_device_profile(cfg, 7, 2).bandwidth_mbps != x.bandwidth_mbps);
}

TEST_CASE("device profile uniform compute power equals the registry's default metadata",
          "[timing]") {
  const devices_config cfg;  // uniform kind by default
  for (client_id id = 0; id < 1000; ++id) {
    const client_meta expected = default_client_meta(3, 4, id);
    CHECK(make_device_profile(cfg, 3, id).compute_power == expected.compute_power);
    const client_meta m = device_meta(cfg, 3, 4, id);
    CHECK(m.compute_power == expected.compute_power);
    CHECK(m.region == expected.region);
  }
  const auto fn = device_meta_fn(cfg, 3, 4);
  CHECK(fn(17).compute_power == default_client_meta(3, 4, 17).compute_power);
}

TEST_CASE("device profile lognormal keeps regions and has median compute power near one",
          "[timing]") {
  devices_config cfg;
  cfg.compute_power.kind = power_kind::lognormal;
  cfg.compute_power.sigma = 1.0;
  const client_id n = 20001;
  std::vector<float> power(n);
  for (client_id id = 0; id < n; ++id) {
    power[id] = make_device_profile(cfg, 11, id).compute_power;
    REQUIRE(power[id] > 0.0f);
    if (id < 100)
      CHECK(device_meta(cfg, 11, 8, id).region == default_client_meta(11, 8, id).region);
  }
  std::nth_element(power.begin(), power.begin() + n / 2, power.end());
  const float median = power[n / 2];
  CHECK(median > 0.97f);
  CHECK(median < 1.03f);
}

TEST_CASE("device profile constant power and zero bandwidth spread give the configured values",
          "[timing]") {
  devices_config cfg;
  cfg.compute_power.kind = power_kind::constant;
  cfg.compute_power.value = 2.5;
  cfg.bandwidth_mbps = 40.0;
  cfg.bandwidth_sigma = 0.0;
  cfg.latency_s = 0.25;
  for (uint64_t id = 0; id < 50; ++id) {
    const auto p = make_device_profile(cfg, 5, id);
    CHECK(p.compute_power == 2.5f);
    CHECK(p.bandwidth_mbps == 40.0f);
    CHECK(p.latency_s == 0.25f);
  }
}

TEST_CASE("device profile bandwidth spreads around the configured median", "[timing]") {
  devices_config cfg;
  cfg.bandwidth_mbps = 20.0;
  cfg.bandwidth_sigma = 0.5;
  const uint64_t n = 20001;
  std::vector<float> bw(n);
  for (uint64_t id = 0; id < n; ++id) bw[id] = make_device_profile(cfg, 1, id).bandwidth_mbps;
  std::nth_element(bw.begin(), bw.begin() + n / 2, bw.end());
  CHECK(bw[n / 2] > 19.5f);
  CHECK(bw[n / 2] < 20.5f);
  CHECK(*std::min_element(bw.begin(), bw.end()) < 10.0f);
}

TEST_CASE("device task duration is latency plus transfer plus compute, by hand", "[timing]") {
  devices_config cfg;
  cfg.per_sample_s = 0.0078125;  // 2^-7
  const device_profile p{0.5f, 20.0f, 0.25f};
  // latency:  2 · 0.25                       = 0.5
  // transfer: 2 · 2'500'000 B · 8 / (20 · 1e6) = 2.0
  // compute:  100 samples · 2 epochs · 2^-7 / 0.5 = 3.125
  CHECK(task_duration(cfg, p, 100, 2, 2500000) == 5.625);
  // Twice the compute power halves only the compute part.
  const device_profile q{1.0f, 20.0f, 0.25f};
  CHECK(task_duration(cfg, q, 100, 2, 2500000) == 4.0625);
  // No model, no samples: the two latencies remain.
  CHECK(task_duration(cfg, p, 0, 1, 0) == 0.5);
}

TEST_CASE("task duration scales transfer and compute time by the event factors", "[timing]") {
  devices_config cfg;
  cfg.per_sample_s = 0.5;
  cfg.latency_s = 0.25;
  // Power 2, 4 Mbit/s, latency 0.25 s: 1 MB each way = 2 x 8e6 bits / 4e6 = 4 s of transfer;
  // 10 samples x 2 epochs x 0.5 s / 2 = 5 s of compute; 0.5 s of latency.
  const device_profile p{2.0f, 4.0f, 0.25f};
  CHECK(task_duration(cfg, p, 10, 2, 1000000) == 9.5);
  CHECK(task_duration(cfg, p, 10, 2, 1000000, 1.0, 1.0) == task_duration(cfg, p, 10, 2, 1000000));
  CHECK(task_duration(cfg, p, 10, 2, 1000000, 3.0, 1.0) == 17.5);   // 0.5 + 12 + 5
  CHECK(task_duration(cfg, p, 10, 2, 1000000, 1.0, 0.5) == 7.0);    // 0.5 + 4 + 2.5
  CHECK(task_duration(cfg, p, 10, 2, 1000000, 0.25, 2.0) == 11.5);  // 0.5 + 1 + 10
}
