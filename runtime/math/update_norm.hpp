#pragma once

// The L2 norm of a client update and clipping it to a bound (robust.norm_bound,
// docs/robustness.md). Actor-free, O(n).

#include <cstddef>

namespace fedactor {

// sqrt(Σ x_i²), summed in double. Not finite when some x_i is not.
double l2_norm(const float* x, size_t n);

// The factor that brings an update of L2 norm `norm` within `bound`: min(1, bound / norm)
// (1 for norm <= bound, also for norm 0). `bound` > 0.
double clip_factor(double norm, double bound);

// Scales x in place by clip_factor(l2_norm(x), bound) (each value multiplied in double,
// rounded to float; untouched when within the bound). Returns the norm before clipping.
double clip_to_norm(float* x, size_t n, double bound);

}  // namespace fedactor
