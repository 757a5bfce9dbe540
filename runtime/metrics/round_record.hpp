#pragma once

// One record per sync round (one line of metrics.jsonl) and the run's totals
// (summary.json).

#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

struct round_record {
  uint32_t round = 0;                        // 1-based
  uint64_t model_version = 0;                // global model version after this round
  uint32_t selected = 0;                     // clients sampled
  uint32_t clients = 0;                      // clients whose update was folded in
  uint32_t failures = 0;                     // timeouts, training errors, rejected updates
  double mean_loss = 0;                      // mean of the clients' mean training loss
  double wall_s = 0;                         // wall-clock seconds this round took
  double clients_per_s = 0;                  // clients / wall_s
  uint32_t live_clients = 0;                 // client actors alive over all edges after the round
  uint32_t peak_live_clients = 0;            // sum over edges of each edge's peak live set
  uint64_t evictions = 0;                    // client actors evicted so far, all edges
  std::vector<std::string> failure_reasons;  // first few, "client N: reason"
};

struct run_summary {
  std::string scenario;
  uint32_t rounds = 0;
  uint64_t clients_trained = 0;
  uint64_t failures = 0;
  double wall_s = 0;
  double mean_clients_per_s = 0;  // clients trained / total round wall time
  double final_loss = 0;
  std::string model_sha256;
  double model_l2 = 0;
  uint64_t num_params = 0;
  uint64_t peak_rss_bytes = 0;
  uint64_t registered_clients = 0;
};

}  // namespace fedactor
