#pragma once

// What a run has done so far, kept by the protocol loops and handed to the summary: the
// counts behind summary.json (and, later, a checkpoint).

#include <cstdint>

#include "runtime/protocol/failure.hpp"

namespace fedactor {

struct run_totals {
  uint64_t clients_trained = 0;  // updates folded into the model
  failure_counts failures;       // per code, over the whole run (stale included, by code)
  double final_loss = 0;         // mean client loss of the last round / step with updates
  // async (FedBuff)
  uint64_t total_updates = 0;     // folded into the buffer
  uint64_t stale_updates = 0;     // discarded for staleness
  uint64_t rejected_updates = 0;  // refused by the buffer (malformed)
  // robust.norm_bound (docs/robustness.md), sync and async
  uint64_t norm_clipped = 0;   // updates clipped to the norm bound
  uint64_t norm_rejected = 0;  // updates rejected by it (also in failures, invalid_update)
};

}  // namespace fedactor
