#include "runtime/population/registry.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

client_meta default_client_meta(uint64_t seed, uint32_t regions, client_id id) {
  rng r{stream_key(seed, rng_tag::client_meta, id)};
  client_meta m;
  m.region = static_cast<uint16_t>(r.below(regions));
  // 1 - u is in (0, 1]; its smallest value 2^-53 stays positive as a float.
  m.compute_power = static_cast<float>(1.0 - r.uniform());
  return m;
}

client_registry::client_registry(uint64_t clients, uint64_t seed, uint32_t regions,
                                 const size_fn& num_samples, const meta_fn& meta) {
  if (clients == 0 || clients > UINT32_MAX)
    throw std::invalid_argument("population.clients must be in [1, 2^32-1], got " +
                                std::to_string(clients));
  if (regions == 0 || regions > 65536)
    throw std::invalid_argument("population.regions must be in [1, 65536], got " +
                                std::to_string(regions));
  if (!num_samples) throw std::invalid_argument("client_registry needs a num_samples function");

  num_samples_.resize(clients);
  compute_power_.resize(clients);
  region_.resize(clients);
  last_round_.assign(clients, -1);

  uint64_t total = 0;
  for (uint64_t i = 0; i < clients; ++i) {
    auto id = static_cast<client_id>(i);
    uint32_t n = num_samples(id);
    client_meta m = meta ? meta(id) : default_client_meta(seed, regions, id);
    if (meta) {
      if (!(m.compute_power > 0.0f && std::isfinite(m.compute_power)) || m.region >= regions)
        throw std::invalid_argument("device profile of client " + std::to_string(id) +
                                    " has compute_power <= 0 or a region out of range");
    }
    num_samples_[i] = n;
    compute_power_[i] = m.compute_power;
    region_[i] = m.region;
    total += n;
  }
  total_samples_ = total;
}

size_t client_registry::bytes() const {
  return num_samples_.capacity() * sizeof(uint32_t) + compute_power_.capacity() * sizeof(float) +
         region_.capacity() * sizeof(uint16_t) + last_round_.capacity() * sizeof(int32_t);
}

void client_registry::save_picks(byte_writer& out) const {
  const uint64_t n = last_round_.size();
  uint64_t picked = 0;
  for (int32_t r : last_round_) picked += r != -1 ? 1 : 0;
  out.put_u64(n);
  if (picked * 2 < n) {
    out.put_u8(1);
    out.put_u64(picked);
    for (uint64_t i = 0; i < n; ++i) {
      if (last_round_[i] == -1) continue;
      out.put_u32(static_cast<uint32_t>(i));
      out.put_i32(last_round_[i]);
    }
  } else {
    out.put_u8(0);
    for (int32_t r : last_round_) out.put_i32(r);
  }
}

void client_registry::load_picks(byte_reader& in) {
  const uint64_t n = in.get_u64("registry size");
  if (n != last_round_.size())
    in.fail("the registry has " + std::to_string(n) + " clients, this run " +
            std::to_string(last_round_.size()));
  std::vector<int32_t> rounds(n, -1);
  const uint8_t form = in.get_u8("registry form");
  if (form == 1) {
    const uint64_t picked = in.get_u64("picked clients");
    if (picked > n) in.fail("more picked clients than clients");
    for (uint64_t i = 0; i < picked; ++i) {
      const uint32_t id = in.get_u32("picked client");
      if (id >= n) in.fail("picked client " + std::to_string(id) + " out of range");
      rounds[id] = in.get_i32("last round");
    }
  } else if (form == 0) {
    for (uint64_t i = 0; i < n; ++i) rounds[i] = in.get_i32("last round");
  } else {
    in.fail("unknown registry form " + std::to_string(form));
  }
  last_round_ = std::move(rounds);
}

}  // namespace fedactor
