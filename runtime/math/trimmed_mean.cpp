#include "runtime/math/trimmed_mean.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/math/nan_order.hpp"

namespace fedactor {

size_t trimmed_count(size_t k, double beta) {
  if (!(beta > 0)) return 0;
  auto t = static_cast<size_t>(std::floor(beta * static_cast<double>(k) + 1e-9));
  while (t > 0 && 2 * t >= k) --t;
  return t;
}

void trimmed_mean(const std::vector<const float*>& xs, size_t dim, double beta, float* out) {
  const size_t k = xs.size();
  if (k == 0) return;
  const size_t t = trimmed_count(k, beta);
  std::vector<float> column(k);
  for (size_t i = 0; i < dim; ++i) {
    for (size_t j = 0; j < k; ++j) column[j] = xs[j][i];
    if (t > 0) std::sort(column.begin(), column.end(), nan_last_less);
    double sum = 0;
    for (size_t j = t; j < k - t; ++j) sum += static_cast<double>(column[j]);
    out[i] = static_cast<float>(sum / static_cast<double>(k - 2 * t));
  }
}

}  // namespace fedactor
