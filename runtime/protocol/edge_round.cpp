#include "runtime/protocol/edge_round.hpp"

#include <cmath>

#include "runtime/privacy/update_clip.hpp"

namespace fedactor {

edge_round::edge_round(uint32_t round, model_snapshot model, size_t clients, size_t aux_values,
                       double clip)
    : round_(round),
      model_(std::move(model)),
      pending_(clients),
      acc_(model_ ? model_->size() : 0),
      aux_values_(aux_values),
      aux_(aux_values),
      clip_(clip) {}

void edge_round::fold(uint32_t client, const float* params, uint32_t samples, double loss,
                      const float* aux, size_t aux_size) {
  if (pending_ == 0) return;
  if (aux_size != aux_values_ || (aux_size > 0 && aux == nullptr)) {
    fail(client, failure_code::invalid_update,
         "rejected update: an aux output of " + std::to_string(aux_size) + " values, expected " +
             std::to_string(aux_values_));
    return;
  }
  for (size_t i = 0; i < aux_size; ++i) {
    if (!(std::fabs(aux[i]) <= weighted_accumulator::max_term)) {
      fail(client, failure_code::invalid_update,
           "rejected update: aux value at index " + std::to_string(i) + " out of range");
      return;
    }
  }
  if (clip_ > 0) {
    // DP-FedAvg: the clipped Δ, weight 1 (a sample-count weight would break its sensitivity).
    clipped_.resize(model_->size());
    const auto c = clip_difference(params, model_->data(), model_->size(), clip_, clipped_.data());
    if (!c.finite() || !acc_.add(clipped_.data(), 1.0, loss)) {
      fail(client, failure_code::invalid_update, "rejected update: values out of range");
      return;
    }
    if (c.within) ++unclipped_;
  } else if (!acc_.add_difference(params, model_->data(), static_cast<double>(samples), loss)) {
    // Δ = params − round model, folded in the accumulator's single pass.
    fail(client, failure_code::invalid_update, "rejected update: values out of range");
    return;
  }
  if (aux_size > 0) aux_.add(aux, 1.0);  // cannot fail: checked above
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
  return edge_round_result{acc_.serialize(),
                           aux_values_ > 0 ? aux_.serialize() : std::vector<char>{}, failed_,
                           details_, unclipped_};
}

}  // namespace fedactor
