#pragma once

// Coordinate-wise median of k updates (Yin et al. 2018), a robust aggregation rule that cannot
// stream: it needs all k updates at once (memory k × dim floats, held by the caller).
// Actor-free, O(k · dim) time.

#include <cstddef>
#include <vector>

namespace fedactor {

// out[i] = the median of xs[j][i] over j (each xs[j] has dim values, xs not empty): the
// middle value for odd k, the mean of the two middle values (in double, rounded to float) for
// even k. Unweighted: every update counts once. NaN sorts above +∞ (nan_order.hpp): a
// coordinate with fewer than half NaN (odd k: at most (k − 1) / 2) has a finite median when
// the rest are finite, more NaN give NaN.
void coordinate_median(const std::vector<const float*>& xs, size_t dim, float* out);

}  // namespace fedactor
