#include "runtime/math/update_norm.hpp"

#include <cmath>

namespace fedactor {

double l2_norm(const float* x, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return std::sqrt(sum);
}

double clip_factor(double norm, double bound) {
  return norm <= bound ? 1.0 : bound / norm;
}

double clip_to_norm(float* x, size_t n, double bound) {
  const double norm = l2_norm(x, n);
  const double f = clip_factor(norm, bound);
  if (f < 1.0)
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<double>(x[i]) * f);
  return norm;
}

}  // namespace fedactor
