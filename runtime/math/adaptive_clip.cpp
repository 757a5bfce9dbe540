#include "runtime/math/adaptive_clip.hpp"

#include <cmath>

namespace fedactor {

void adaptive_clip::update(uint64_t within, uint64_t total) {
  if (total == 0) return;
  const double fraction = static_cast<double>(within) / static_cast<double>(total);
  bound_ *= std::exp(-lr_ * (fraction - gamma_));
}

}  // namespace fedactor
