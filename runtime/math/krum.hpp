#pragma once

// Krum and multi-Krum (Blanchard et al. 2017; multi-Krum as in El Mhamdi et al. 2018): each of
// the n updates is scored by the sum of its squared L2 distances to its q = n − f − 2 nearest
// other updates (f: the Byzantine updates tolerated); the m lowest-scored updates are selected
// and averaged (m = 1: Krum). Cannot stream (memory n × dim floats, held by the caller, plus
// n² distances). Actor-free, O(n² · dim) time.

#include <cstddef>
#include <vector>

namespace fedactor {

// Neighbours scored for n updates tolerating f: n − f − 2, at least 1 and at most n − 1
// (0 for n = 1). Krum's guarantee needs n > 2f + 2; with fewer updates the rule still runs on
// the clamped count.
size_t krum_neighbours(size_t n, size_t f);

// The scores (sum of the squared distances to the krum_neighbours(n, f) nearest others, in
// double). A distance that is NaN (an update with NaN) counts as +∞: such an update is scored
// +∞ and ranks last.
std::vector<double> krum_scores(const std::vector<const float*>& xs, size_t dim, size_t f);

// The indices of the min(m, n) lowest scores, ascending by score (ties: the lower index).
std::vector<size_t> krum_select(const std::vector<const float*>& xs, size_t dim, size_t f,
                                size_t m);

// out = the unweighted mean (in double, rounded to float) of the updates krum_select picks.
// xs not empty, m >= 1.
void multi_krum(const std::vector<const float*>& xs, size_t dim, size_t f, size_t m, float* out);

}  // namespace fedactor
