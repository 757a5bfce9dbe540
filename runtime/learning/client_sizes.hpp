#pragma once

// Dataset size of a synthetic client, a pure function of (data config, seed, client id).
// The registry's num_samples and the client's materialised dataset both come from here,
// so they always agree.

#include <cstdint>

#include "runtime/math/rng.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

inline uint32_t synthetic_num_samples(const data_config& cfg, uint64_t seed, uint64_t client) {
  rng r{stream_key(seed, rng_tag::client_size, client)};
  return cfg.min_samples + static_cast<uint32_t>(r.below(cfg.max_samples - cfg.min_samples));
}

}  // namespace fedactor
