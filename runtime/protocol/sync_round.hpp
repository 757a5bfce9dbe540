#pragma once

// One synchronous round's bookkeeping, actor-free: the batches of clients sent to each edge
// (at most one in flight per edge, since an edge trains one edge_ins at a time; rerouted
// work queues behind it), the exact aggregate of the answers, and the round's record with its
// failures counted per code.
//
// Every answer is checked against the round's own record before it is merged: the round
// number, the aggregate's dimension, and its count (the updates it holds) plus the failures
// the edge reports (every code, summed without wrapping) must equal the clients of the batch.
// An answer that does not fit is refused whole (its live-set figures too): the batch's
// clients count as invalid_update, the refusal by its reason (runtime/protocol/answer_refusals).

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/protocol/answer_refusals.hpp"
#include "runtime/protocol/client_report.hpp"
#include "runtime/protocol/edge_set.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/strategy/robust_rule.hpp"

namespace fedactor {

// Clients one edge trains for the round (ascending ids).
struct edge_batch {
  uint64_t id = 0;  // unique over the run: (round << 32) + n, n = 1, 2, ... within the round
  uint32_t edge = 0;
  std::vector<uint32_t> clients;
};

// What an edge answered for a batch.
struct edge_report {
  uint32_t round = 0;                // the round it trained (must be this round)
  std::vector<char> aggregate;       // serialized weighted_accumulator of Σ n·Δ, n, n·loss
  std::vector<char> aux_aggregate;   // the clients' aux outputs, weight 1 each (SCAFFOLD's Δc_i)
  failure_counts failed;             // clients of the batch that produced no update
  std::vector<std::string> details;  // the first few failures, "client N: reason"
  uint32_t live_clients = 0;
  uint32_t peak_live_clients = 0;
  uint64_t evictions = 0;
  norm_bound_counts norm;         // what the round's norm bound did (robust.*)
  uint32_t unclipped = 0;         // DP-FedAvg: the batch's updates whose norm was <= the clip
  uint64_t update_bytes = 0;      // the clients' updates as they reached the edge, in bytes
  uint32_t updates_received = 0;  // how many (at most the batch's clients)
  // Encoded client_reports (runtime/protocol/client_report.hpp), one per update, ascending
  // ids of the batch; empty when the edge sends none (DP-FedAvg); else they must fit the
  // aggregate (refused whole as wrong_count otherwise).
  std::vector<char> reports;
};

class sync_round {
 public:
  // Failure details kept per record.
  static constexpr size_t max_details = 8;

  // `aux_dim`: the size of the clients' aux outputs the edges aggregate (0 = none).
  sync_round(uint32_t round, size_t dim, edge_set& edges, size_t aux_dim = 0);

  uint32_t number() const { return round_; }

  // Routes `ids` (ascending) to the edges serving them now; unreachable clients fail
  // (edge_lost). Returns the batches to send now (the others wait behind their edge's batch
  // in flight).
  std::vector<edge_batch> assign(const std::vector<uint32_t>& ids);
  // The same with each client's edge already chosen (routed[i] for ids[i], from
  // edge_set::edge_for; nullopt = unreachable). routed.size() must equal ids.size().
  std::vector<edge_batch> assign(const std::vector<uint32_t>& ids,
                                 const std::vector<std::optional<uint32_t>>& routed);

  // The edge answered batch `id`: checked, merged. Returns the batches to send now (the
  // edge's next one). An answer for a batch that is not outstanding (abandoned with its
  // edge, or answered twice) changes nothing.
  std::vector<edge_batch> answered(uint64_t id, edge_report rep);

  // The edge's answer to batch `id` could not even be read as a report (its failure counts
  // name codes the server does not know): refused like an answer that does not fit.
  std::vector<edge_batch> refused(uint64_t id, answer_refusal why, const std::string& detail);

  // The answers refused since the last call, one line each ("edge 1, round 3: aggregate of 5
  // values, the model has 7850 (wrong_dimension)"); each is also counted
  // (runtime/protocol/answer_refusals) and noted in the round's record.
  std::vector<std::string> take_refusals();

  // Batch `id` failed as a whole (the edge answered with an error, or timed out): its
  // clients count as `code`.
  std::vector<edge_batch> failed(uint64_t id, failure_code code, const std::string& detail);

  // Edge `e` is gone (the edge set already knows): its outstanding batches are reassigned
  // through edge_set::edge_for (reroute) or fail (drop). Returns the batches to send now.
  std::vector<edge_batch> edge_lost(uint32_t e);

  // DP-FedAvg (docs/privacy.md): the edges clip every update to L2 norm `clip` and weight it
  // 1. An answer must then fit that: weight = count, ‖Σ Δ‖ <= count × clip (the triangle
  // inequality, with slack for rounding) and unclipped <= count; else it is refused whole.
  void expect_clipped(double clip) { clip_ = clip; }
  // The merged answers' client reports, in merge order (not sorted).
  const std::vector<client_report>& reports() const { return reports_; }

  // Σ unclipped over the merged answers.
  uint64_t unclipped() const { return unclipped_; }

  bool outstanding(uint64_t id) const { return batches_.count(id) != 0; }
  const edge_batch* batch(uint64_t id) const;
  // No batch outstanding: every assigned client answered or failed.
  bool complete() const { return batches_.empty(); }

  const weighted_accumulator& aggregate() const { return acc_; }
  const weighted_accumulator& aux_aggregate() const { return aux_; }
  round_record& record() { return rec_; }
  // What the norm bound did over the edges' answers merged so far.
  const norm_bound_counts& norm() const { return norm_; }

  void fail_client(uint32_t client, failure_code code, const std::string& detail);

 private:
  std::vector<edge_batch> add_batch(uint32_t e, std::vector<uint32_t> clients);
  std::vector<edge_batch> done(uint64_t id);
  void note(const std::string& detail);

  uint32_t round_;
  edge_set& edges_;
  weighted_accumulator acc_;
  weighted_accumulator aux_;
  round_record rec_;
  norm_bound_counts norm_;
  std::unordered_map<uint64_t, edge_batch> batches_;  // outstanding (sent or queued)
  std::vector<uint64_t> in_flight_;                   // per edge: batch sent, 0 = none
  std::vector<std::deque<uint64_t>> backlog_;         // per edge: batches queued behind it
  // Unique over the run, not just the round: an answer or timeout of an earlier round's batch
  // (say, a request to a lost edge that expires later) must never name one of this round's.
  uint64_t next_id_;
  double clip_ = 0;
  uint64_t unclipped_ = 0;
  std::vector<std::string> refusals_;  // since take_refusals
  std::vector<client_report> reports_;
};

}  // namespace fedactor
