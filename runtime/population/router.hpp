#pragma once

// Client -> edge routing, O(1) per client and without per-client tables.
//   range: edge e serves the contiguous ids [floor(e*n/E), floor((e+1)*n/E)) (the tutorial's
//          layout when E divides n).
//   hash:  the same balanced layout applied to a seeded pseudo-random permutation of the ids,
//          so neighbouring ids land on unrelated edges. A plain mix64(id ^ key) % E would leave
//          edges empty for small populations; the permutation keeps every edge's share at
//          floor(n/E) or ceil(n/E), so every edge serves clients whenever n >= E.

#include <cstdint>

#include "runtime/population/client_id.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class router {
 public:
  // Throws std::invalid_argument for clients == 0 or > 2^32-1, or edges == 0.
  router(routing_kind kind, uint64_t clients, uint32_t edges, uint64_t seed);

  // The edge serving `id` (< clients), in [0, edges).
  uint32_t edge_of(client_id id) const;

  uint64_t clients() const { return clients_; }
  uint32_t edges() const { return edges_; }

 private:
  uint64_t permute(uint64_t x) const;  // bijection on [0, clients)
  uint64_t feistel(uint64_t x) const;  // bijection on [0, 2^(2*half_bits_))

  routing_kind kind_;
  uint64_t clients_;
  uint32_t edges_;
  uint32_t half_bits_ = 1;
  uint64_t keys_[4] = {};
};

}  // namespace fedactor
