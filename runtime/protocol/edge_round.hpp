#pragma once

// One synchronous round at an edge, actor-free: the clients the server sent, folded into one
// exact streaming aggregate as their results arrive (Δ = params − the round's model, weight
// = samples, loss alongside: memory O(model), not O(clients × model)), failures counted per
// code. The edge shell answers the server with finish() once complete().
//
// With robust settings (runtime/strategy/robust_rule.hpp, docs/robustness.md) each Δ is first
// held to the round's L2 norm bound (clipped, or rejected as invalid_update), then folded
// (rule mean) or held until finish() (median, trimmed mean, Krum: memory k × model floats for
// the k accepted updates), which folds the rule's result once with weight Σ samples of the
// held updates, standing for all of them in the aggregate's count. The rule sees the held
// updates in client id order, so the result does not depend on the order of arrival.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/client_report.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/model_snapshot.hpp"
#include "runtime/strategy/robust_rule.hpp"

namespace fedactor {

struct edge_round_result {
  std::vector<char> aggregate;      // serialized weighted_accumulator
  std::vector<char> aux_aggregate;  // the clients' aux outputs, weight 1 each (empty: none)
  failure_counts failed;
  std::vector<std::string> details;  // the first few, "client N: reason"
  norm_bound_counts norm;            // what the norm bound did (all 0 when off)
  uint32_t unclipped = 0;            // clipping: folded updates whose norm was <= the clip
  uint64_t update_bytes = 0;         // the updates received (count_update), in bytes
  uint32_t updates_received = 0;
  std::vector<char> reports;  // encoded client_reports, ascending ids (none when clipping)
};

class edge_round {
 public:
  static constexpr size_t max_details = 8;

  // `model`: the round's global model (the base of every Δ); `clients`: how many were sent;
  // `aux_values`: the size of every client's aux output (SCAFFOLD's Δc_i), 0 = none expected.
  // `robust`: the round's norm bound and aggregation rule (default: none, streaming mean).
  // `clip` > 0 (DP-FedAvg, docs/privacy.md): each Δ is clipped to that L2 norm
  // (runtime/privacy/update_clip.hpp) and folded with weight 1 instead of its samples. The
  // scenario never sets both (validation refuses robust settings in a private run).
  edge_round(uint32_t round, model_snapshot model, size_t clients, size_t aux_values = 0,
             robust_settings robust = {}, double clip = 0);

  uint32_t round() const { return round_; }
  const model_snapshot& model() const { return model_; }

  // Folds a checked result (params has model size values) and its aux output (aux_values
  // values, weight 1). A term out of the accumulator's range, or an aux output of the wrong
  // size or not finite, counts as invalid_update instead (nothing of it is folded).
  void fold(uint32_t client, const float* params, uint32_t samples, double loss,
            const float* aux = nullptr, size_t aux_size = 0);
  void fail(uint32_t client, failure_code code, const std::string& reason);

  // An update of `bytes` bytes reached the edge (folded or refused); 0 = none came (an error,
  // a timeout): not counted.
  void count_update(uint64_t bytes) {
    if (bytes == 0) return;
    update_bytes_ += bytes;
    ++updates_received_;
  }

  // `n` more clients to fold or fail this round (a middle edge of an aggregation tree trains
  // here the clients of a child edge it lost: docs/deployment.md).
  void expect_more(size_t n) { pending_ += n; }

  // Every client sent has been folded or has failed.
  bool complete() const { return pending_ == 0; }
  size_t pending() const { return pending_; }

  edge_round_result finish() const;

  // Updates held for a robust rule (0 with rule mean).
  size_t held() const { return held_.size(); }

 private:
  struct held_update {
    uint32_t client;
    std::vector<float> delta;
    uint32_t samples;
    double loss;
  };
  // fold() with robust settings active: bound, then fold or hold. False: failed (counted).
  bool fold_robust(uint32_t client, const float* params, uint32_t samples, double loss);

  uint32_t round_;
  model_snapshot model_;
  size_t pending_;
  weighted_accumulator acc_;
  size_t aux_values_;
  weighted_accumulator aux_;
  failure_counts failed_;
  std::vector<std::string> details_;
  robust_settings robust_;
  norm_bound_counts norm_;
  std::vector<held_update> held_;
  double clip_;
  uint32_t unclipped_ = 0;
  uint64_t update_bytes_ = 0;
  uint32_t updates_received_ = 0;
  std::vector<float> clipped_;  // scratch: the clipped Δ
  std::vector<client_report> reports_;
};

}  // namespace fedactor
