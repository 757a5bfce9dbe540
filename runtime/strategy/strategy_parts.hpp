#pragma once

// The replaceable parts of a run's algorithm, as an embedding program supplies them (the
// federation API's set_server_optimizer / set_sampler / set_staleness_weight): factories, so
// the server builds fresh parts for its run. An empty part is built from the scenario
// (strategy.*, selection.strategy, async.decay).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/server_optimizer.hpp"
#include "runtime/strategy/staleness_weight.hpp"

namespace fedactor {

struct strategy_parts {
  // The server optimizer for a model of `dim` values.
  std::function<std::unique_ptr<server_optimizer>(size_t dim)> optimizer;
  // The sampler over `reg` (which outlives it), seeded with the scenario's seed.
  std::function<std::unique_ptr<fedactor::sampler>(client_registry& reg, uint64_t seed)> pick;
  // The staleness weight of async runs.
  staleness_weight weight;
};

// The parts `given` supplies, the others built from `sc`. Throws std::invalid_argument with a
// one-line message when the scenario's choice cannot be built.
std::unique_ptr<server_optimizer> build_optimizer(const strategy_parts& given, const scenario& sc,
                                                  size_t dim);
std::unique_ptr<sampler> build_sampler(const strategy_parts& given, const scenario& sc,
                                       client_registry& reg);
staleness_weight build_weight(const strategy_parts& given, const scenario& sc);

}  // namespace fedactor
