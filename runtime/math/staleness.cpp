#include "runtime/math/staleness.hpp"

#include <cmath>

namespace fedactor {

double decay_weight(const decay_config& cfg, uint64_t staleness) {
  const auto s = static_cast<double>(staleness);
  switch (cfg.kind) {
    case decay_kind::exponential:
      return std::pow(cfg.base, s);
    case decay_kind::polynomial:
      return std::pow(1.0 + s, -cfg.exponent);
    case decay_kind::hinge:
      return s <= cfg.b ? 1.0 : 1.0 / (cfg.a * (s - cfg.b) + 1.0);
    case decay_kind::constant:
      return 1.0;
  }
  return 0.0;
}

}  // namespace fedactor
