#pragma once

// Async pre-aggregation at an edge (async.edge_mode: preaggregate), actor-free: the updates of
// the tasks the server put in one group (they share a base version) are folded into one exact
// aggregate — Σ n·Δ with Δ = params − the base model, or Σ n·params under delta rule current —
// and the group is answered once it is closed (the server says how many members it has) and
// every member has been folded or has failed. The member finishing last in simulated time
// (then the larger seq) carries the aggregate; the others are answered "held".

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "runtime/math/accumulator.hpp"

namespace fedactor {

struct group_member {
  uint64_t seq = 0;
  uint32_t client = 0;
  double finish = 0;  // simulated finish time
};

struct complete_group {
  uint64_t id = 0;
  std::vector<group_member> members;  // folded members, in fold order
  size_t carrier = 0;                 // index of the member that carries the aggregate
  std::vector<char> aggregate;        // serialized weighted_accumulator
};

class preaggregation {
 public:
  // Folds a member's result. `base_model` is the model of the group's base version (unused
  // under group_params). False (the member counts as failed) when a term is out of range or
  // the size differs from the group's earlier members.
  bool fold(uint64_t group, const group_member& m, const float* params, const float* base_model,
            size_t values, double samples, double loss, bool group_params);

  // A member's task failed: it counts toward the group's size, adds nothing.
  void fail(uint64_t group);

  // The server closed the group: it has `size` members in all.
  void close(uint64_t group, uint32_t size);

  // The group, removed, once it is closed and every member folded or failed; nullopt while it
  // waits (and for a group with no folded member, which is dropped: nobody to answer).
  std::optional<complete_group> take_if_complete(uint64_t group);

  size_t open_groups() const { return groups_.size(); }

 private:
  struct state {
    weighted_accumulator acc;
    std::vector<group_member> members;
    uint32_t failed = 0;
    uint32_t expected = 0;  // 0 = still open
  };
  std::map<uint64_t, state> groups_;
};

}  // namespace fedactor
