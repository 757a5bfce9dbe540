#pragma once

// Simulated device heterogeneity: each client's compute power and link, drawn from its own
// random streams (a pure function of the devices config, the seed and the client id), and the
// simulated duration of one training task on that device.

#include <cstddef>
#include <cstdint>

#include "runtime/population/client_id.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

namespace rng_tag {
constexpr uint64_t client_link = 0x6c696e6b;  // per-client link speed ("link")
}  // namespace rng_tag

struct device_profile {
  float compute_power;   // relative speed, > 0; 1 = the reference device of per_sample_s
  float bandwidth_mbps;  // link speed in megabits per second, > 0
  float latency_s;       // one-way latency per message, >= 0
};

// The device of `client`:
// - compute power from rng{stream_key(seed, rng_tag::client_meta, client)} after skipping the
//   region draw (the draw order of default_client_meta): uniform = 1 − u in (0, 1] (the
//   registry's default values, bit for bit); lognormal = exp(sigma·N(0,1)) (median 1);
//   constant = value.
// - bandwidth = bandwidth_mbps · exp(bandwidth_sigma·N(0,1)) (median bandwidth_mbps) from
//   rng{stream_key(seed, rng_tag::client_link, client)}.
// - latency = latency_s.
// Drawn values are clamped to the positive normal floats.
device_profile make_device_profile(const devices_config& cfg, uint64_t seed, uint64_t client);

// Simulated seconds for one task: model down and update up (2 latencies, 2·model_bytes·8 bits
// over the link), plus num_samples·epochs·per_sample_s / compute_power of local training.
double task_duration(const devices_config& cfg, const device_profile& p, uint32_t num_samples,
                     uint32_t epochs, size_t model_bytes);
// The same with the transfer time (not the latency) multiplied by `transfer_factor` and the
// local training time by `compute_factor` (scripted events, runtime/timing/time_factors.hpp);
// factors 1 give task_duration's value bit for bit.
double task_duration(const devices_config& cfg, const device_profile& p, uint32_t num_samples,
                     uint32_t epochs, size_t model_bytes, double transfer_factor,
                     double compute_factor);

// Registry metadata for `id`: the region as default_client_meta draws it and the compute
// power of make_device_profile. With compute_power.kind uniform it equals default_client_meta.
client_meta device_meta(const devices_config& cfg, uint64_t seed, uint32_t regions, client_id id);

// device_meta bound to (cfg, seed, regions), for client_registry's `meta` argument.
client_registry::meta_fn device_meta_fn(const devices_config& cfg, uint64_t seed, uint32_t regions);

}  // namespace fedactor
