#pragma once

// The FedOpt family's shared part (Reddi et al., 2021, "Adaptive Federated Optimization",
// Algorithm 2; Flower's fedopt.py): a first moment m, a second moment v, a step count t, and
// the step skeleton. With Δₜ the mean delta of step t (t = 1, 2, ...), β₁ = strategy.beta1,
// η = strategy.server_lr, τ = strategy.tau, and m₀ = v₀ = 0:
//   mₜ = β₁·mₜ₋₁ + (1 − β₁)·Δₜ
//   vₜ = (the kind's rule: fedadam, fedyogi, fedadagrad)
//   next = current + ηₜ·mₜ / (√vₜ + τ)      (ηₜ = η except for fedadam's bias correction)
// element by element, in double; m and v are kept in double (16 bytes per model value), next
// is rounded to float once. Deterministic: IEEE-754 +, −, ×, ÷ and √ only, no std::pow, so
// the same inputs give the same bytes on any machine whose build does not fuse a·b + c into
// one FMA (GCC fuses by default, even with -std=c++17, when the target has FMA: x86-64 builds
// without -march have none; aarch64 needs -ffp-contract=off for bits equal to x86-64's).
//
// Difference from the paper: it starts from v₋₁ ≥ τ², Flower and we from v = 0 (so the first
// step divides by |Δ|-ish values plus τ, not by τ-ish values).

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

class fedopt_optimizer : public server_optimizer {
 public:
  size_t dim() const final { return m_.size(); }

  // Checks dim, counts the step (t = steps() afterwards), then update(). Throws
  // std::invalid_argument, changing nothing, when dim != this->dim().
  void step(const float* current, const float* mean_delta, float* next, size_t dim) final;

  // Payload: u64 step count, dim f64 first moments, dim f64 second moments.
  std::vector<char> save_state() const final;
  // Also rejects a non-finite moment and a negative second moment.
  void load_state(const char* data, size_t size) final;

  uint64_t steps() const { return steps_; }
  const std::vector<double>& first_moment() const { return m_; }
  const std::vector<double>& second_moment() const { return v_; }
  const server_optimizer_config& config() const { return cfg_; }

 protected:
  // Validates `keys` of cfg (std::invalid_argument with the first bad key) and dim >= 1.
  fedopt_optimizer(const server_optimizer_config& cfg, size_t dim,
                   const std::vector<optimizer_key>& keys);

  // One step over all dim() values; steps() is already t. next may alias current or
  // mean_delta (read each index before writing it).
  virtual void update(const float* current, const float* mean_delta, float* next) = 0;

  server_optimizer_config cfg_;
  std::vector<double> m_;
  std::vector<double> v_;

 private:
  uint64_t steps_ = 0;
};

// b^n by repeated squaring: IEEE multiplications only, so the same bits on every platform
// (std::pow is not required to be correctly rounded). b^0 = 1.
double power_by_squaring(double b, uint64_t n);

}  // namespace fedactor
