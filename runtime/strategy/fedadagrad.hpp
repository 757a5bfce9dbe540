#pragma once

// fedadagrad: Adagrad on the server (Reddi et al., 2021, Algorithm 2, FedAdagrad), as Flower's
// FedAdagrad. On fedopt.hpp's skeleton:
//   vₜ = vₜ₋₁ + Δₜ²
//   next = current + η·mₜ / (√vₜ + τ)
// Keys: strategy.server_lr (η, 0.1), strategy.beta1 (0), strategy.tau (1e-3): Flower's
// defaults; with β₁ = 0, mₜ = Δₜ.
//
// Difference from Flower (docs/strategies.md): Flower fixes β₁ = 0 (its FedAdagrad takes no
// beta_1); the paper's Algorithm 2 allows momentum, so strategy.beta1 may be set (default 0,
// Flower's behaviour).

#include <cstddef>

#include "runtime/strategy/fedopt.hpp"

namespace fedactor {

class fedadagrad_optimizer final : public fedopt_optimizer {
 public:
  static constexpr const char* kind_name = "fedadagrad";

  // Reads server_lr, beta1, tau. Throws std::invalid_argument for a bad value or dim 0.
  // O(dim) memory (two doubles per value).
  fedadagrad_optimizer(const server_optimizer_config& cfg, size_t dim);

  const char* kind() const override { return kind_name; }

 private:
  void update(const float* current, const float* mean_delta, float* next) override;
};

server_optimizer_info fedadagrad_info();

}  // namespace fedactor
