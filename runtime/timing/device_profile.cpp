#include "runtime/timing/device_profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

// A positive, finite float: draws far in a lognormal tail must not reach 0 or infinity.
float positive_float(double v) {
  constexpr double lo = std::numeric_limits<float>::min();
  constexpr double hi = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(v, lo, hi));
}

// Compute power from the client_meta stream once the region has been drawn from it.
float draw_compute_power(const compute_power_config& cfg, rng& r) {
  switch (cfg.kind) {
    case power_kind::uniform:
      // 1 - u is in (0, 1]; its smallest value 2^-53 stays positive as a float.
      return static_cast<float>(1.0 - r.uniform());
    case power_kind::lognormal:
      return positive_float(std::exp(cfg.sigma * r.normal()));
    case power_kind::constant:
      return static_cast<float>(cfg.value);
  }
  return 1.0f;
}

}  // namespace

device_profile make_device_profile(const devices_config& cfg, uint64_t seed, uint64_t client) {
  device_profile p;
  rng meta{stream_key(seed, rng_tag::client_meta, client)};
  meta.next();  // the region draw of default_client_meta (below() uses one value)
  p.compute_power = draw_compute_power(cfg.compute_power, meta);
  rng link{stream_key(seed, rng_tag::client_link, client)};
  p.bandwidth_mbps =
      cfg.bandwidth_sigma == 0
          ? static_cast<float>(cfg.bandwidth_mbps)
          : positive_float(cfg.bandwidth_mbps * std::exp(cfg.bandwidth_sigma * link.normal()));
  p.latency_s = static_cast<float>(cfg.latency_s);
  return p;
}

double task_duration(const devices_config& cfg, const device_profile& p, uint32_t num_samples,
                     uint32_t epochs, size_t model_bytes) {
  return task_duration(cfg, p, num_samples, epochs, model_bytes, 1.0, 1.0);
}

double task_duration(const devices_config& cfg, const device_profile& p, uint32_t num_samples,
                     uint32_t epochs, size_t model_bytes, double transfer_factor,
                     double compute_factor) {
  const double latency = 2.0 * static_cast<double>(p.latency_s);
  const double transfer =
      2.0 * static_cast<double>(model_bytes) * 8.0 / (static_cast<double>(p.bandwidth_mbps) * 1e6);
  const double compute = static_cast<double>(num_samples) * static_cast<double>(epochs) *
                         cfg.per_sample_s / static_cast<double>(p.compute_power);
  return latency + transfer * transfer_factor + compute * compute_factor;
}

client_meta device_meta(const devices_config& cfg, uint64_t seed, uint32_t regions, client_id id) {
  rng r{stream_key(seed, rng_tag::client_meta, id)};
  client_meta m;
  m.region = static_cast<uint16_t>(r.below(regions));
  m.compute_power = draw_compute_power(cfg.compute_power, r);
  return m;
}

client_registry::meta_fn device_meta_fn(const devices_config& cfg, uint64_t seed,
                                        uint32_t regions) {
  return [cfg, seed, regions](client_id id) { return device_meta(cfg, seed, regions, id); };
}

}  // namespace fedactor
