#include "runtime/protocol/edge_round.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/math/update_norm.hpp"
#include "runtime/privacy/update_clip.hpp"

namespace fedactor {

edge_round::edge_round(uint32_t round, model_snapshot model, size_t clients, size_t aux_values,
                       robust_settings robust, double clip)
    : round_(round),
      model_(std::move(model)),
      pending_(clients),
      acc_(model_ ? model_->size() : 0),
      aux_values_(aux_values),
      aux_(aux_values),
      robust_(robust),
      clip_(clip) {}

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

bool edge_round::fold_robust(uint32_t client, const float* params, uint32_t samples, double loss) {
  const size_t n = model_->size();
  const float* base = model_->data();
  std::vector<float> delta(n);
  for (size_t i = 0; i < n; ++i) delta[i] = params[i] - base[i];  // in float, as add_difference
  if (robust_.norm_mode != norm_bound_mode::off) {
    const double norm = l2_norm(delta.data(), n);
    if (!std::isfinite(norm)) {
      fail(client, failure_code::invalid_update, "rejected update: values out of range");
      return false;
    }
    if (norm <= robust_.norm_bound) {
      ++norm_.within;
    } else if (robust_.norm_mode == norm_bound_mode::reject) {
      ++norm_.rejected;
      fail(client, failure_code::invalid_update,
           "rejected update: norm " + number(norm) + " above the bound " +
               number(robust_.norm_bound));
      return false;
    } else {
      clip_to_norm(delta.data(), n, robust_.norm_bound);
      ++norm_.clipped;
    }
  }
  if (!robust_.holds_updates()) {
    if (!acc_.add(delta.data(), static_cast<double>(samples), loss)) {
      fail(client, failure_code::invalid_update, "rejected update: values out of range");
      return false;
    }
    return true;
  }
  // Held: the rule's result is folded by finish() with weight Σ samples, so every value must
  // stay in the accumulator's range at that weight (the result lies within the held values'
  // range per coordinate, for every rule).
  for (size_t i = 0; i < n; ++i) {
    if (!(std::fabs(static_cast<double>(delta[i])) * (samples) <= weighted_accumulator::max_term)) {
      fail(client, failure_code::invalid_update, "rejected update: values out of range");
      return false;
    }
  }
  held_.push_back(held_update{client, std::move(delta), samples, loss});
  return true;
}

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
  // The client's report: ||Δ||² of the update as the edge received it.
  double sq_norm = 0;
  if (clip_ <= 0) {
    const float* base = model_->data();
    for (size_t i = 0, n = model_->size(); i < n; ++i) {
      const double d = static_cast<double>(params[i]) - static_cast<double>(base[i]);
      sq_norm += d * d;
    }
  }
  if (robust_.active()) {
    if (!fold_robust(client, params, samples, loss)) return;
    reports_.push_back(client_report{client, samples, loss, sq_norm});
    if (aux_size > 0) aux_.add(aux, 1.0);  // cannot fail: checked above
    --pending_;
    return;
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
  if (clip_ <= 0) reports_.push_back(client_report{client, samples, loss, sq_norm});
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
  auto reports = reports_;
  std::sort(reports.begin(), reports.end(),
            [](const client_report& a, const client_report& b) { return a.client < b.client; });
  if (held_.empty())
    return edge_round_result{acc_.serialize(),
                             aux_values_ > 0 ? aux_.serialize() : std::vector<char>{},
                             failed_,
                             details_,
                             norm_,
                             unclipped_,
                             update_bytes_,
                             updates_received_,
                             encode_client_reports(reports)};
  // The rule over the held updates, folded once with their total weight, standing for them all.
  const size_t n = model_->size();
  // In client id order: Krum's ties and the loss sum then do not depend on arrival order.
  std::vector<const held_update*> order;
  for (const auto& h : held_) order.push_back(&h);
  std::sort(order.begin(), order.end(),
            [](const held_update* a, const held_update* b) { return a->client < b->client; });
  std::vector<const float*> xs;
  double weight = 0, weighted_loss = 0;
  for (const auto* hp : order) {
    const auto& h = *hp;
    xs.push_back(h.delta.data());
    weight += h.samples;
    weighted_loss += h.samples * h.loss;
  }
  std::vector<float> result(n);
  apply_robust_rule(robust_, xs, n, result.data());
  weighted_accumulator acc(n);
  auto failed = failed_;
  auto details = details_;
  if (!acc.add_as(result.data(), weight, weighted_loss / weight, held_.size())) {
    // Cannot happen for values checked in fold (the result stays within their range), but an
    // aggregate must account for every client: they count as invalid then.
    acc.clear();
    failed.add(failure_code::invalid_update, static_cast<uint32_t>(held_.size()));
    if (details.size() < max_details)
      details.push_back("edge: robust rule result out of range, " + std::to_string(held_.size()) +
                        " updates dropped");
  }
  if (acc.empty()) reports.clear();  // the held updates were dropped
  return edge_round_result{acc.serialize(),
                           aux_values_ > 0 ? aux_.serialize() : std::vector<char>{},
                           failed,
                           details,
                           norm_,
                           unclipped_,
                           update_bytes_,
                           updates_received_,
                           encode_client_reports(reports)};
}

}  // namespace fedactor
