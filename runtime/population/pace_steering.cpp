#include "runtime/population/pace_steering.hpp"

#include <algorithm>
#include <cmath>

namespace fedactor {

pace_steering::pace_steering(double ewma, double max_factor)
    : ewma_(ewma), max_factor_(max_factor) {}

double pace_steering::factor() const {
  if (rate_ >= 1) return max_factor_;
  return std::min(max_factor_, 1.0 / (1.0 - rate_));
}

uint32_t pace_steering::wanted(uint32_t k) const {
  // The same guard against float noise as selection.over_select (10 × 1.1 = 11, not 12).
  const double w = std::ceil(static_cast<double>(k) * factor() * (1.0 - 1e-12));
  return static_cast<uint32_t>(std::min<double>(w, 4294967295.0));
}

void pace_steering::observe(uint32_t attempted, uint32_t failed) {
  if (attempted == 0) return;
  const double f = static_cast<double>(std::min(failed, attempted)) / attempted;
  rate_ = (1.0 - ewma_) * rate_ + ewma_ * f;
}

}  // namespace fedactor
