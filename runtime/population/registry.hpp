#pragma once

// The client registry: compact per-client metadata for every registered client, stored as a
// struct of arrays (14 bytes per client). Everything but last_round is a pure function of
// (seed, id) and the caller's dataset-size function, so a registry can be rebuilt anywhere.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "runtime/population/client_id.hpp"

namespace fedactor {
class byte_writer;
class byte_reader;
}  // namespace fedactor

namespace fedactor {

// Device metadata of one client, drawn from its own stream.
struct client_meta {
  float compute_power;  // relative speed, > 0 ((0, 1] for the default profile)
  uint16_t region;      // 0 .. regions-1
};

// The default device profile: region uniform over `regions`, then compute power uniform in
// (0, 1], both from rng{stream_key(seed, rng_tag::client_meta, id)}. The region is drawn first
// so that another compute-power distribution (say lognormal) leaves regions unchanged.
client_meta default_client_meta(uint64_t seed, uint32_t regions, client_id id);

class client_registry {
 public:
  using size_fn = std::function<uint32_t(client_id)>;
  using meta_fn = std::function<client_meta(client_id)>;

  // Registers clients 0 .. clients-1. num_samples(id) must be the client's real dataset size.
  // `meta` replaces the default device profile (default_client_meta) when given; it must
  // return a positive, finite compute_power and a region below `regions`.
  // Throws std::invalid_argument for clients == 0 or > 2^32-1, regions == 0 or > 65536,
  // or an empty num_samples.
  client_registry(uint64_t clients, uint64_t seed, uint32_t regions, const size_fn& num_samples,
                  const meta_fn& meta = {});

  uint64_t size() const { return num_samples_.size(); }

  // Per-client metadata; id < size().
  uint32_t num_samples(client_id id) const { return num_samples_[id]; }
  float compute_power(client_id id) const { return compute_power_[id]; }
  uint16_t region(client_id id) const { return region_[id]; }
  int32_t last_round(client_id id) const { return last_round_[id]; }  // -1 = never picked

  void mark_picked(client_id id, int32_t round) { last_round_[id] = round; }

  // Sum of num_samples over all clients.
  uint64_t total_samples() const { return total_samples_; }

  // Heap bytes held (capacity based).
  size_t bytes() const;

  // Checkpoints: every client's last_round (the rest is a function of seed and id). Written
  // sparse, (id, round) per picked client, when fewer than half the clients were ever picked,
  // else dense, 4 bytes per client. load_picks throws checkpoint_error for another population
  // size or a client id out of range, leaving the registry unchanged.
  void save_picks(byte_writer& out) const;
  void load_picks(byte_reader& in);

 private:
  std::vector<uint32_t> num_samples_;
  std::vector<float> compute_power_;
  std::vector<uint16_t> region_;
  std::vector<int32_t> last_round_;
  uint64_t total_samples_ = 0;
};

}  // namespace fedactor
