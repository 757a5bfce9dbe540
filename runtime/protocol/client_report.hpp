#pragma once

// Per-client reports an edge sends with a sync round's aggregate (one per update it folded):
// what the server's sampler learns from (runtime/population/oort_sampler.hpp: loss and
// samples) and the squared norm of the client's Δ for the adaptive sample size
// (runtime/math/update_spread.hpp). 24 bytes per client, ascending ids. Not sent in a
// DP-FedAvg round (per-client losses and norms are outside its mechanism).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace fedactor {

struct client_report {
  uint32_t client = 0;
  uint32_t samples = 0;
  double loss = 0;
  double sq_norm = 0;  // ||Δ||^2 of the update as folded
};

// Little-endian bytes (runtime/checkpoint/byte_codec.hpp): a count, then the fields.
std::vector<char> encode_client_reports(const std::vector<client_report>& reports);

// nullopt for bytes that are not such a list.
std::optional<std::vector<client_report>> decode_client_reports(const char* data, size_t size);

}  // namespace fedactor
