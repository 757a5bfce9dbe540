#include "runtime/population/sample_size.hpp"

#include <algorithm>
#include <cmath>

namespace fedactor {

uint32_t next_sample_size(uint32_t k, double rel_var, const adaptive_size_config& cfg) {
  double next = k;
  // Guard against float noise: 10 x 1.5 is 15, not 16.
  if (rel_var > cfg.target_rel_var)
    next = std::ceil(k * cfg.grow * (1.0 - 1e-12));
  else if (rel_var < cfg.target_rel_var / 4)
    next = std::floor(k * cfg.shrink * (1.0 + 1e-12));
  next = std::min<double>(std::max<double>(next, cfg.min), cfg.max);
  return static_cast<uint32_t>(next);
}

}  // namespace fedactor
