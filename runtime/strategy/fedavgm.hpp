#pragma once

// fedavgm: FedAvg with server momentum (Hsu et al., 2019, "Measuring the Effects of
// Non-Identical Data Distribution", arXiv:1909.06335), as Flower's FedAvgM computes it (the
// PyTorch SGD convention: heavy-ball momentum, no dampening, no Nesterov). With Δₜ the mean
// delta of step t (t = 1, 2, ...), μ = strategy.momentum, η = strategy.server_lr:
//   vₜ = Δₜ                 at the first step (Flower: "initialise the momentum vector")
//   vₜ = μ·vₜ₋₁ + Δₜ         afterwards
//   next = current + η·vₜ
// Flower writes it with the pseudo-gradient −Δ (v ← μv + (w − mean), w ← w − ηv): the same
// numbers with the sign flipped. v is kept in double (8 bytes per model value); next is
// rounded to float once. With μ = 0 every step equals sgd's bit for bit.
//
// Differences from Flower (docs/strategies.md): the default momentum is 0.9 (Hsu et al.'s and
// Flower's FedAvgM baseline's value), not Flower's 0.0, which would make fedavgm plain FedAvg;
// Flower's first-step rule keys on server_round == 1 (legacy strategy) or on the vector being
// unset (new strategy), ours on the step count being 0 (what a checkpoint restores), and with
// μ = 0 and η = 1 Flower returns the mean itself, we return current + Δ (equal to float rounding).
// State: the step count and v.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

class fedavgm_optimizer final : public server_optimizer {
 public:
  static constexpr const char* kind_name = "fedavgm";

  // Reads strategy.server_lr and strategy.momentum. Throws std::invalid_argument for a bad
  // value or dim 0. O(dim) memory (doubles).
  fedavgm_optimizer(const server_optimizer_config& cfg, size_t dim);

  const char* kind() const override { return kind_name; }
  size_t dim() const override { return v_.size(); }
  void step(const float* current, const float* mean_delta, float* next, size_t dim) override;
  // Payload: u64 steps, dim f64 momentum values.
  std::vector<char> save_state() const override;
  // Also rejects a non-finite momentum value.
  void load_state(const char* data, size_t size) override;

  uint64_t steps() const { return steps_; }
  const std::vector<double>& momentum_buffer() const { return v_; }

 private:
  double lr_;
  double momentum_;
  uint64_t steps_ = 0;
  std::vector<double> v_;
};

// Registry entry: keys {strategy.server_lr, strategy.momentum}, defaults 1.0 and 0.9.
server_optimizer_info fedavgm_info();

}  // namespace fedactor
