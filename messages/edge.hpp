#pragma once

// Edge aggregation: the server sends edge_ins (one per edge and round), the edge trains
// the listed clients and answers edge_res with their streaming aggregate.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/exact_double.hpp"
#include "messages/param_blob.hpp"
#include "messages/train.hpp"
#include "messages/wire_bounds.hpp"
#include "runtime/strategy/robust_rule.hpp"

namespace fedactor {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, robust_settings& x) {
  return f(caf::meta::type_name("robust_settings"), x.norm_mode, exact(x.norm_bound), x.rule,
           exact(x.trim), x.krum_f, x.krum_m);
}

struct edge_ins {
  uint32_t round = 0;
  uint64_t model_version = 0;
  uint64_t seed = 0;              // scenario seed; task seeds derive from (seed, round, client)
  param_blob model;               // shared snapshot of the global model
  std::vector<uint32_t> clients;  // ids this edge trains this round (ascending)
  train_settings settings;
  double client_timeout_s = 120;  // per client task
  param_blob aux;                 // the algorithm's server state (SCAFFOLD: c); may be empty
  robust_settings robust;         // the round's norm bound and aggregation rule (robust.*)
  double clip = 0;                // DP-FedAvg: clip each update to this L2 norm, weight 1; 0 = off
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_ins& x) {
  return f(caf::meta::type_name("edge_ins"), x.round, x.model_version, x.seed, x.model, x.clients,
           x.settings, exact(x.client_timeout_s), x.aux, x.robust, exact(x.clip));
}

struct edge_res {
  uint32_t round = 0;
  uint32_t edge = 0;
  std::vector<char> aggregate;        // serialized weighted_accumulator of client deltas
  std::vector<char> aux_aggregate;    // the clients' aux outputs, weight 1 each (SCAFFOLD: Δc_i)
  std::vector<uint32_t> failed_by;    // clients that produced no update, per failure_code
  std::vector<std::string> failures;  // the first few failure reasons, "client N: reason"
  uint32_t live_clients = 0;          // client actors alive at this edge after the round
  uint32_t peak_live_clients = 0;     // most client actors ever alive at once at this edge
  uint64_t evictions = 0;             // client actors evicted so far
  uint32_t norm_within = 0;           // updates within the round's norm bound (robust.*)
  uint32_t norm_clipped = 0;          // updates clipped to it
  uint32_t norm_rejected = 0;         // updates rejected by it (also in failed_by)
  uint32_t unclipped = 0;             // DP-FedAvg: updates whose norm was <= edge_ins::clip
  // Client results the edge refused this round, by reason (runtime/protocol/result_refusals):
  // empty when none, else one count per reason; the server checks that they are among the
  // batch's invalid_update failures.
  std::vector<uint32_t> refused_results;
  uint64_t update_bytes = 0;      // the clients' updates as they reached the edge, in bytes
  uint32_t updates_received = 0;  // how many updates those bytes are
  std::vector<char> reports;      // per-client reports (runtime/protocol/client_report.hpp)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, edge_res& x) {
  return f(caf::meta::type_name("edge_res"), x.round, x.edge, bounded(x.aggregate),
           bounded(x.aux_aggregate), x.failed_by, x.failures, x.live_clients, x.peak_live_clients,
           x.evictions, x.norm_within, x.norm_clipped, x.norm_rejected, x.unclipped,
           x.refused_results, x.update_bytes, x.updates_received, bounded(x.reports));
}

}  // namespace fedactor
