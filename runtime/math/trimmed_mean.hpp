#pragma once

// Coordinate-wise trimmed mean of k updates (Yin et al. 2018): per coordinate, the t = ⌊β·k⌋
// smallest and t largest values are dropped and the rest averaged. Cannot stream (memory
// k × dim floats, held by the caller). Actor-free, O(k log k · dim) time.

#include <cstddef>
#include <vector>

namespace fedactor {

// Values dropped at each end for k updates and trim fraction β in [0, 0.5): ⌊β·k⌋ (with a
// 1e-9 guard against float noise, so 0.3 × 10 drops 3). 2t < k always.
size_t trimmed_count(size_t k, double beta);

// out[i] = mean over j of xs[j][i] without the trimmed_count(k, β) smallest and largest
// (summed in double, rounded to float). Unweighted. NaN sorts above +∞ (nan_order.hpp): up to
// t NaN in a coordinate are trimmed away, more make it NaN. xs not empty.
void trimmed_mean(const std::vector<const float*>& xs, size_t dim, double beta, float* out);

}  // namespace fedactor
