#pragma once

// The adaptive sample size rule (selection.adaptive_size, docs/selection.md): after a round
// whose aggregate had relative variance v (runtime/math/update_spread.hpp),
//     v > target          : k <- min(max, ceil(k x grow))
//     v < target / 4      : k <- max(min, floor(k x shrink))
//     otherwise           : k unchanged,
// always clamped to [min, max]. A round without updates leaves k unchanged.

#include <cstdint>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

uint32_t next_sample_size(uint32_t k, double rel_var, const adaptive_size_config& cfg);

}  // namespace fedactor
