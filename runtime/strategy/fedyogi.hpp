#pragma once

// fedyogi: Yogi on the server (Reddi et al., 2021, Algorithm 2, FedYogi; Zaheer et al., 2018),
// as Flower's FedYogi. On fedopt.hpp's skeleton:
//   vₜ = vₜ₋₁ − (1 − β₂)·Δₜ²·sign(vₜ₋₁ − Δₜ²)      (sign(0) = 0)
//   next = current + η·mₜ / (√vₜ + τ)
// v only grows when Δ² exceeds it and shrinks by at most (1 − β₂)·Δ² otherwise, so it never
// goes negative. No bias correction (neither the paper nor Flower has one).
// Keys: strategy.server_lr (η, 0.01), strategy.beta1 (0.9), strategy.beta2 (0.99),
// strategy.tau (1e-3): Flower's defaults. Differences from Flower: none beyond fedopt.hpp's
// (double arithmetic, v starts at 0 as in Flower but not in the paper).

#include <cstddef>

#include "runtime/strategy/fedopt.hpp"

namespace fedactor {

class fedyogi_optimizer final : public fedopt_optimizer {
 public:
  static constexpr const char* kind_name = "fedyogi";

  // Reads server_lr, beta1, beta2, tau. Throws std::invalid_argument for a bad value or
  // dim 0. O(dim) memory (two doubles per value).
  fedyogi_optimizer(const server_optimizer_config& cfg, size_t dim);

  const char* kind() const override { return kind_name; }

 private:
  void update(const float* current, const float* mean_delta, float* next) override;
};

server_optimizer_info fedyogi_info();

}  // namespace fedactor
