#pragma once

// Splitting a labelled training set over clients (data.partition), as in NIID-Bench:
// - iid: a seeded shuffle cut into near-equal parts (sizes differ by at most one);
// - dirichlet: for each label, proportions over the clients drawn from Dir(alpha); the
//   label's samples are split by those proportions (largest remainder);
// - labels_per_client: each client holds k labels (client c: label c mod classes plus
//   k − 1 others at random); a label's samples are split evenly among its holders;
// - quantity_skew: client sizes from Dir(alpha) (every client at least one sample),
//   samples drawn at random, so label mixes stay IID.
// Every sample goes to exactly one client, and no client is left empty: after a
// dirichlet split, an empty client takes one sample from the currently largest client.
// A partition is a pure function of (labels, clients, config, seed), built in
// O(samples + clients · classes), and stored compactly as offsets into one index array.

#include <cstdint>
#include <vector>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

struct partition_config {
  partition_kind kind = partition_kind::iid;
  double alpha = 0.5;              // dirichlet, quantity_skew
  uint32_t labels_per_client = 2;  // labels_per_client
};

class partition {
 public:
  partition() = default;
  partition(std::vector<uint64_t> offsets, std::vector<uint32_t> indices)
      : offsets_(std::move(offsets)), indices_(std::move(indices)) {}

  uint64_t clients() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  uint32_t size(uint64_t client) const {
    return static_cast<uint32_t>(offsets_[client + 1] - offsets_[client]);
  }
  // The client's sample indices (size(client) of them).
  const uint32_t* indices(uint64_t client) const { return indices_.data() + offsets_[client]; }
  const std::vector<uint32_t>& all_indices() const { return indices_; }
  size_t bytes() const {
    return offsets_.capacity() * sizeof(uint64_t) + indices_.capacity() * sizeof(uint32_t);
  }

 private:
  std::vector<uint64_t> offsets_;  // clients + 1
  std::vector<uint32_t> indices_;  // grouped by client
};

// Splits samples 0..labels.size()-1 (labels in [0, classes)) over `clients` clients.
// Throws std::invalid_argument with one line if it cannot (more clients than samples, a
// label held by more clients than it has samples, alpha <= 0, k outside [1, classes]).
partition make_partition(const std::vector<uint8_t>& labels, uint32_t classes, uint64_t clients,
                         const partition_config& cfg, uint64_t seed);

}  // namespace fedactor
