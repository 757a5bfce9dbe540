#pragma once

// Staleness decay for asynchronous aggregation: the weight multiplier of an update computed
// from a model `staleness` versions older than the server's current one.

#include <cstdint>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// Largest async.staleness_threshold accepted: the server keeps threshold+1 model versions and
// every aggregation record carries a histogram of threshold+1 counts.
constexpr uint32_t max_staleness_threshold = 1000;

// exponential: base^s; polynomial: (1 + s)^-exponent; hinge: 1 if s <= b, else
// 1 / (a (s - b) + 1); constant: 1. Values are in [0, 1] for a validated decay_config
// (0 only when base^s underflows). 0 for a kind outside the enum.
double decay_weight(const decay_config& cfg, uint64_t staleness);

}  // namespace fedactor
