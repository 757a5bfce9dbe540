#pragma once

// What the server answers when a run ends.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/exact_double.hpp"
#include "messages/param_blob.hpp"

namespace fedactor {

struct run_report {
  uint32_t rounds = 0;  // rounds (sync) or aggregations (async) completed
  uint64_t model_version = 0;
  uint64_t clients_trained = 0;
  uint64_t failures = 0;              // tasks that produced no update (stale ones apart)
  std::vector<uint32_t> failures_by;  // per failure_code, stale included
  double final_loss = 0;              // mean client loss of the last round
  param_blob model;                   // final global model
  double sim_time_s = 0;              // simulated time at the end
  uint64_t total_updates = 0;         // async: folded into the buffer
  uint64_t stale_updates = 0;         // async: discarded for staleness
  uint64_t rejected_updates = 0;      // async: malformed
  uint64_t norm_clipped = 0;          // sync robust.norm_bound: updates clipped
  uint64_t norm_rejected = 0;         // sync robust.norm_bound: updates rejected
  // The run was stopped (stop_atom) before its last round / step: `rounds` is the number
  // completed, `model` the last completed one's; stopped_by is the stop's reason ("SIGINT").
  bool interrupted = false;
  std::string stopped_by;
  // privacy.mode dp_fedavg: the (ε, δ) spent so far (ε +inf without noise), the clip bound
  bool private_run = false;
  double epsilon = 0;
  double delta = 0;
  double final_clip = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_report& x) {
  return f(caf::meta::type_name("run_report"), x.rounds, x.model_version, x.clients_trained,
           x.failures, x.failures_by, exact(x.final_loss), x.model, exact(x.sim_time_s),
           x.total_updates, x.stale_updates, x.rejected_updates, x.norm_clipped, x.norm_rejected,
           x.interrupted, x.stopped_by, x.private_run, exact(x.epsilon), exact(x.delta),
           exact(x.final_clip));
}

}  // namespace fedactor
