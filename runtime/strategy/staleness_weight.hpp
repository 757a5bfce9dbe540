#pragma once

// The staleness weight of asynchronous aggregation: the multiplier, in [0, 1], of an update
// computed from a model `staleness` versions older than the server's current one (FedBuff
// weighs each update by num_samples × weight(staleness)). One function type for the whole
// family: the built-in kinds come from the scenario's async.decay (exponential base^s,
// polynomial (1+s)^-a, hinge, constant — FLSim's async_staleness_weights), and a C++ user may
// pass any function of their own (federation::set_staleness_weight). A weight outside [0, 1]
// or not finite refuses the update (counted as rejected).

#include <cstdint>
#include <functional>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

using staleness_weight = std::function<double(uint64_t staleness)>;

// The built-in weight of `cfg` (runtime/math/staleness.hpp's decay_weight).
staleness_weight make_staleness_weight(const decay_config& cfg);

}  // namespace fedactor
