#include "runtime/math/coordinate_median.hpp"

#include <algorithm>

#include "runtime/math/nan_order.hpp"

namespace fedactor {

void coordinate_median(const std::vector<const float*>& xs, size_t dim, float* out) {
  const size_t k = xs.size();
  if (k == 0) return;
  std::vector<float> column(k);
  const size_t mid = k / 2;
  for (size_t i = 0; i < dim; ++i) {
    for (size_t j = 0; j < k; ++j) column[j] = xs[j][i];
    std::nth_element(column.begin(), column.begin() + mid, column.end(), nan_last_less);
    const float upper = column[mid];
    if (k % 2 == 1) {
      out[i] = upper;
      continue;
    }
    // The largest value below the middle one: the lower middle.
    const float lower = *std::max_element(column.begin(), column.begin() + mid, nan_last_less);
    out[i] = static_cast<float>((static_cast<double>(lower) + static_cast<double>(upper)) / 2.0);
  }
}

}  // namespace fedactor
