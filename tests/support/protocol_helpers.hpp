#pragma once

// Test helpers for the actor-free protocol classes (runtime/protocol): stand-in edge
// aggregates built with the exact accumulator, and the parts the sync and async loops need
// (a scenario without data, a registry from a size function, a sampler, a server optimizer,
// an edge set over a range router).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/accumulator.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/router.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/protocol/edge_set.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor::testing {

// population.availability diurnal over 2-slot periods for one region (docs/selection.md): base
// 0.5 and amplitude 1 give p = 1 in the peak slot and p = 0 in the other (0.5 ± 1, clamped);
// without `peaks` the peak slots are [2j·slot_s, (2j+1)·slot_s).
inline availability_config on_off(double slot_s, std::vector<double> peaks = {}) {
  availability_config a;
  a.model = availability_model::diurnal;
  a.base = 0.5;
  a.amplitude = 1.0;
  a.period_s = 2 * slot_s;
  a.slot_s = slot_s;
  a.peak_s = std::move(peaks);
  return a;
}

// One client's contribution to a stand-in aggregate: Δ (or params), its weight, its loss.
struct term {
  std::vector<float> x;
  double weight;
  double loss;
};

// The exact accumulator of `terms` (each folded with add(x, weight, loss)).
inline weighted_accumulator accumulator_of(size_t dim, const std::vector<term>& terms) {
  weighted_accumulator acc(dim);
  for (const auto& t : terms) REQUIRE(acc.add(t.x.data(), t.weight, t.loss));
  return acc;
}

// The serialized accumulator of `terms`, as an edge sends it.
inline std::vector<char> aggregate_of(size_t dim, const std::vector<term>& terms) {
  return accumulator_of(dim, terms).serialize();
}

// A scenario for the protocol loops: `clients` clients over `edges` edges (range routing),
// real clock (no device timing), sgd with server_lr 1, seed 7. Tests set what they need.
inline scenario loop_scenario(uint64_t clients, uint32_t edges) {
  scenario sc;
  sc.seed = 7;
  sc.population.clients = clients;
  sc.topology.edges = edges;
  sc.topology.routing = routing_kind::range;
  sc.clock = clock_kind::real;
  sc.selection.strategy = sampling_kind::random;
  sc.selection.clients_per_round = static_cast<uint32_t>(clients);
  sc.protocol.rounds = 1;
  sc.strategy.server_optimizer = "sgd";
  return sc;
}

// Device timing that is exact to read: compute power 1, no latency, a link so fast that the
// transfer time vanishes against whole seconds, `per_sample_s` per sample: a client with n
// samples (1 epoch) takes n·per_sample_s simulated seconds.
inline devices_config plain_devices(double per_sample_s = 1.0) {
  devices_config d;
  d.compute_power.kind = power_kind::constant;
  d.compute_power.value = 1.0;
  d.per_sample_s = per_sample_s;
  d.bandwidth_mbps = 1e30;
  d.bandwidth_sigma = 0.0;
  d.latency_s = 0.0;
  return d;
}

inline std::shared_ptr<client_registry> make_registry(const scenario& sc,
                                                      std::function<uint32_t(client_id)> samples) {
  return std::make_shared<client_registry>(sc.population.clients, sc.seed, 1, samples);
}

inline std::unique_ptr<edge_set> make_edge_set(const scenario& sc) {
  return std::make_unique<edge_set>(
      std::make_unique<router>(sc.topology.routing, sc.population.clients, sc.topology.edges,
                               sc.seed),
      sc.faults.on_edge_loss);
}

// A fresh server optimizer of `kind` with that kind's defaults.
inline std::unique_ptr<server_optimizer> fresh_optimizer(const std::string& kind, size_t dim) {
  return make_server_optimizer(server_optimizer_defaults(kind), dim);
}

// What `kind` (defaults, fresh) makes of `model` after steps with each mean delta in turn.
inline std::vector<float> optimizer_path(const std::string& kind, std::vector<float> model,
                                         const std::vector<std::vector<float>>& mean_deltas) {
  auto opt = fresh_optimizer(kind, model.size());
  std::vector<float> next(model.size());
  for (const auto& d : mean_deltas) {
    REQUIRE(d.size() == model.size());
    opt->step(model.data(), d.data(), next.data(), next.size());
    model = next;
  }
  return model;
}

}  // namespace fedactor::testing
