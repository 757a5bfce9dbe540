#pragma once

// An adaptive L2 clip bound that tracks a target quantile of the update norms: the geometric
// update of Andrew et al. 2021 ("Differentially private learning with adaptive clipping"),
// without its noise: after a round in which a fraction b̄ of the updates had a norm <= C,
//
//   C ← C · exp(−η (b̄ − γ))
//
// so C shrinks while more than the fraction γ of the updates fall within it and grows while
// fewer do; at equilibrium about γ of the norms are <= C. Actor-free.

#include <cstdint>

namespace fedactor {

class adaptive_clip {
 public:
  // `initial` > 0: the first round's bound; `target_quantile` γ in (0, 1); `lr` η > 0.
  adaptive_clip(double initial, double target_quantile, double lr)
      : bound_(initial), gamma_(target_quantile), lr_(lr) {}

  double bound() const { return bound_; }
  double target_quantile() const { return gamma_; }
  double lr() const { return lr_; }

  // One round: `within` of `total` updates had a norm <= bound(). No update (total 0): the
  // bound stays.
  void update(uint64_t within, uint64_t total);

  // Restores a saved bound (checkpoints).
  void set_bound(double b) { bound_ = b; }

 private:
  double bound_;
  double gamma_;
  double lr_;
};

}  // namespace fedactor
