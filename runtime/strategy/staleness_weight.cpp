#include "runtime/strategy/staleness_weight.hpp"

#include "runtime/math/staleness.hpp"

namespace fedactor {

staleness_weight make_staleness_weight(const decay_config& cfg) {
  return [cfg](uint64_t s) { return decay_weight(cfg, s); };
}

}  // namespace fedactor
