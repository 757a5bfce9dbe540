#include "runtime/protocol/edge_round.hpp"

namespace fedactor {

edge_round::edge_round(uint32_t round, model_snapshot model, size_t clients)
    : round_(round),
      model_(std::move(model)),
      pending_(clients),
      acc_(model_ ? model_->size() : 0) {}

void edge_round::fold(uint32_t client, const float* params, uint32_t samples, double loss) {
  if (pending_ == 0) return;
  // Δ = params − round model, folded in the accumulator's single pass.
  if (!acc_.add_difference(params, model_->data(), static_cast<double>(samples), loss)) {
    fail(client, failure_code::invalid_update, "rejected update: values out of range");
    return;
  }
  --pending_;
}

void edge_round::fail(uint32_t client, failure_code code, const std::string& reason) {
  if (pending_ == 0) return;
  --pending_;
  failed_.add(code);
  if (details_.size() < max_details)
    details_.push_back("client " + std::to_string(client) + ": " + reason);
}

edge_round_result edge_round::finish() const {
  return edge_round_result{acc_.serialize(), failed_, details_};
}

}  // namespace fedactor
