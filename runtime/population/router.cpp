#include "runtime/population/router.hpp"

#include <stdexcept>
#include <string>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr uint64_t routing_tag = 0x726f7574;  // "rout": keys of the hash layout's permutation

}  // namespace

router::router(routing_kind kind, uint64_t clients, uint32_t edges, uint64_t seed)
    : kind_(kind), clients_(clients), edges_(edges) {
  if (clients == 0 || clients > UINT32_MAX)
    throw std::invalid_argument("router: clients must be in [1, 2^32-1], got " +
                                std::to_string(clients));
  if (edges == 0) throw std::invalid_argument("topology.edges must be at least 1");
  // Smallest even bit width 2h with 2^(2h) >= clients: cycle walking then needs fewer than 4
  // Feistel evaluations per lookup on average.
  while ((uint64_t{1} << (2 * half_bits_)) < clients) ++half_bits_;
  for (uint64_t i = 0; i < 4; ++i) keys_[i] = stream_key(seed, routing_tag, i);
}

uint32_t router::edge_of(client_id id) const {
  uint64_t x = kind_ == routing_kind::hash ? permute(id) : id;
  // The e with floor(e*n/E) <= x < floor((e+1)*n/E) is floor(((x+1)*E - 1) / n).
  unsigned __int128 num = static_cast<unsigned __int128>(x + 1) * edges_ - 1;
  return static_cast<uint32_t>(num / clients_);
}

uint64_t router::feistel(uint64_t x) const {
  const uint64_t mask = (uint64_t{1} << half_bits_) - 1;
  uint64_t left = x >> half_bits_;
  uint64_t right = x & mask;
  for (uint64_t key : keys_) {
    uint64_t next = left ^ (mix64(right ^ key) & mask);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

uint64_t router::permute(uint64_t x) const {
  // Cycle walking: iterate the permutation of the padded domain until it lands in range.
  do x = feistel(x);
  while (x >= clients_);
  return x;
}

}  // namespace fedactor
