#pragma once

// An edge's check of a client host's answer to its sync batch (host aggregation,
// docs/communication.md), actor-free: what the edge can verify against its own record before
// the answer is folded as a child edge's is (runtime/protocol/subtree_fold, which then checks
// the round, the accounting of every client sent and the failure counts). The host is a peer
// in another process: nothing it says is believed that the edge can check.
//
// Checked here: the aggregate is exactly one serialized accumulator of the model's dimension
// (its byte size follows from the dimension: 48 + 16 x dim), the aux aggregate likewise (or
// absent when the round has no aux outputs); the per-client reports decode, name distinct
// clients of the batch in ascending order, one per folded update, each with the sample count
// the edge's registry holds for that client and a finite loss; the aggregate's total weight
// equals the sum of those sample counts and its loss sum the sum of samples x loss, both
// compared in the accumulator's exact fixed point. The accumulator's values are fixed-point
// integers (always finite); each client's term was bounded by the host's fold.
//
// Complexity: O(reports + dim) (deserialization). Throws nothing.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/protocol/sync_round.hpp"

namespace fedactor {

struct host_batch_expectation {
  size_t dim = 0;      // the model's size
  size_t aux_dim = 0;  // the clients' aux outputs' size (0: none)
  // The clients sent to the host, ascending.
  const std::vector<uint32_t>* clients = nullptr;
  // The registry's sample count of a client.
  std::function<uint32_t(uint32_t client)> samples_of;
};

// nullopt when the answer passes, else why not (one line, without the host's name).
std::optional<std::string> host_batch_problem(const edge_report& rep,
                                              const host_batch_expectation& want);

}  // namespace fedactor
