#include "runtime/math/update_spread.hpp"

#include <algorithm>
#include <limits>

namespace fedactor {

double update_spread::variance(double mean_sq_norm) const {
  if (count_ == 0 || !(weight_ > 0)) return 0;
  return std::max(0.0, weighted_sq_ / weight_ - mean_sq_norm);
}

double update_spread::relative_variance(double mean_sq_norm) const {
  const double var = variance(mean_sq_norm);
  if (var == 0) return 0;
  if (!(mean_sq_norm > 0)) return std::numeric_limits<double>::infinity();
  return var / (static_cast<double>(count_) * mean_sq_norm);
}

}  // namespace fedactor
