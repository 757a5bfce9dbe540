#pragma once

// The clipping step of DP-FedAvg (docs/privacy.md), done where a client's update is folded
// (runtime/protocol/edge_round): Δ = params − model, taken in float as the accumulator's
// add_difference takes it, scaled by min(1, C/‖Δ‖) so that its L2 norm is at most C (up to
// the final rounding to float, relative 2^-24), ‖Δ‖ summed in double.

#include <cstddef>

namespace fedactor {

struct clipped_update {
  double norm = 0;  // ‖Δ‖ before clipping (inf / NaN for a non-finite Δ: `out` is not an update)
  double scale = 1;     // min(1, C/‖Δ‖)
  bool within = false;  // ‖Δ‖ <= C: the update was not clipped (adaptive clipping counts these)
  bool finite() const { return norm <= 1e300; }
};

// Writes the clipped Δ of `params` against `model` (n values each) to `out`; C = clip > 0.
clipped_update clip_difference(const float* params, const float* model, size_t n, double clip,
                               float* out);

}  // namespace fedactor
