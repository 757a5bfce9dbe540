#pragma once

// A middle edge's sync round in an aggregation tree (docs/deployment.md, "Aggregation
// trees"), actor-free: the answers of its child edges, each for the clients it was sent, and
// the edge's own part (clients trained here or on its client hosts) folded into the one
// answer it sends up. The accumulator is exact fixed point, so folding the children's
// aggregates gives the bytes a single edge training all those clients would.
//
// A child's answer is checked against the edge's own record before it is folded, as the
// server checks an edge's: the round, a well-formed aggregate of the model's dimension, its
// count plus the failures it reports equal to the clients sent to that child, an aux
// aggregate of one unit weight per update, norm-bound counts that fit, refused results among
// its invalid updates, at most `count` unclipped updates, and client reports (when sent) one
// per update for distinct clients of its batch. An answer that does not fit is refused whole:
// its clients count as invalid_update and the reason is noted.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/client_report.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/protocol/sync_round.hpp"

namespace fedactor {

class subtree_fold {
 public:
  static constexpr size_t max_details = 8;

  // `dim`: the model's size; `aux_dim`: the size of the clients' aux outputs (0 = none);
  // `clipped`: a DP-FedAvg round (edge_ins::clip > 0), whose answers carry no client reports.
  subtree_fold(uint32_t round, size_t dim, size_t aux_dim, bool clipped = false);

  // Folds the edge's own part (its edge_round's result): trusted, not checked.
  void fold_own(const edge_report& own, const result_refusal_counts& refused);

  // Child `who` answered for `clients` (ascending, the ids sent to it): checked, then folded.
  // Returns nullopt when folded, else the one-line reason it was refused (its clients then
  // count as invalid_update).
  std::optional<std::string> fold_child(const std::string& who,
                                        const std::vector<uint32_t>& clients,
                                        const edge_report& rep,
                                        const std::vector<uint32_t>& refused_wire);

  // A child's answer that could not even be read as a report (`line` says why): its
  // `clients` count as invalid_update.
  void refuse(const std::string& line, size_t clients);

  // The folded answer: aggregate and aux serialized, reports ascending by client.
  edge_report total() const;
  const result_refusal_counts& refused() const { return refused_; }

 private:
  void note(const std::string& detail);
  void add_figures(const edge_report& rep);

  uint32_t round_;
  weighted_accumulator acc_;
  size_t aux_dim_;
  bool clipped_;
  weighted_accumulator aux_;
  failure_counts failed_;
  std::vector<std::string> details_;
  norm_bound_counts norm_;
  uint32_t unclipped_ = 0;
  uint32_t live_ = 0, peak_live_ = 0;
  uint64_t evictions_ = 0;
  uint64_t update_bytes_ = 0;
  uint32_t updates_received_ = 0;
  std::vector<client_report> reports_;
  result_refusal_counts refused_{};
};

}  // namespace fedactor
