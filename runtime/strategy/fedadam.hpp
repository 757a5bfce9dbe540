#pragma once

// fedadam: Adam on the server (Reddi et al., 2021, Algorithm 2, FedAdam), with the
// bias-corrected step size that Flower's FedAdam uses since flwr 1.13 (PR #4362; Kingma & Ba,
// 2015, the step size αₜ before their section 2.1). On fedopt.hpp's skeleton:
//   vₜ = β₂·vₜ₋₁ + (1 − β₂)·Δₜ²
//   ηₜ = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)    when strategy.bias_correction (default), else ηₜ = η
//   next = current + ηₜ·mₜ / (√vₜ + τ)
// Keys: strategy.server_lr (η, 0.1), strategy.beta1 (0.9), strategy.beta2 (0.99),
// strategy.tau (1e-3), strategy.bias_correction (true): Flower's defaults (flwr.serverapp).
//
// Differences from Flower (docs/strategies.md): t is the number of steps taken, this one
// included (t = 1 at the first step), as in Kingma & Ba; Flower uses t = server_round + 1, and
// its rounds start at 1, so its first step has t = 2 (a step size 0.742·η instead of η with the
// default betas). bias_correction false gives the paper's Algorithm 2 (Flower before 1.13).
// β₁ᵗ, β₂ᵗ come from power_by_squaring (bit-reproducible), not std::pow.

#include <cstddef>

#include "runtime/strategy/fedopt.hpp"

namespace fedactor {

class fedadam_optimizer final : public fedopt_optimizer {
 public:
  static constexpr const char* kind_name = "fedadam";

  // Reads server_lr, beta1, beta2, tau, bias_correction. Throws std::invalid_argument for a
  // bad value or dim 0. O(dim) memory (two doubles per value).
  fedadam_optimizer(const server_optimizer_config& cfg, size_t dim);

  const char* kind() const override { return kind_name; }

  // ηₜ for step t >= 1 (with bias correction off: η).
  double step_size(uint64_t t) const;

 private:
  void update(const float* current, const float* mean_delta, float* next) override;
};

server_optimizer_info fedadam_info();

}  // namespace fedactor
