#pragma once

// One synchronous round at an edge, actor-free: the clients the server sent, folded into one
// exact streaming aggregate as their results arrive (Δ = params − the round's model, weight
// = samples, loss alongside: memory O(model), not O(clients × model)), failures counted per
// code. The edge shell answers the server with finish() once complete().

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/model_snapshot.hpp"

namespace fedactor {

struct edge_round_result {
  std::vector<char> aggregate;  // serialized weighted_accumulator
  failure_counts failed;
  std::vector<std::string> details;  // the first few, "client N: reason"
};

class edge_round {
 public:
  static constexpr size_t max_details = 8;

  // `model`: the round's global model (the base of every Δ); `clients`: how many were sent.
  edge_round(uint32_t round, model_snapshot model, size_t clients);

  uint32_t round() const { return round_; }
  const model_snapshot& model() const { return model_; }

  // Folds a checked result (params has model size values). A term out of the accumulator's
  // range counts as invalid_update instead.
  void fold(uint32_t client, const float* params, uint32_t samples, double loss);
  void fail(uint32_t client, failure_code code, const std::string& reason);

  // Every client sent has been folded or has failed.
  bool complete() const { return pending_ == 0; }
  size_t pending() const { return pending_; }

  edge_round_result finish() const;

 private:
  uint32_t round_;
  model_snapshot model_;
  size_t pending_;
  weighted_accumulator acc_;
  failure_counts failed_;
  std::vector<std::string> details_;
};

}  // namespace fedactor
