#pragma once

// The server: samples clients each round, routes them to their edges, merges the edges'
// aggregates, applies the server update, reports each round, and answers run_atom with
// the final report when all rounds are done.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/edge.hpp"
#include "messages/atoms.hpp"
#include "messages/run.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/router.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

using server_actor = caf::typed_actor<caf::replies_to<run_atom>::with<run_report>>;

struct server_config {
  scenario sc;
  std::vector<float> initial_model;
  std::shared_ptr<client_registry> registry;
  std::vector<edge_actor> edges;
  uint32_t edge_capacity = 1;  // live clients per edge (sizes the edge timeout)
  std::function<void(const round_record&)> on_round;  // called on the server's thread
};

// Server state machine (sync):
//
//   waiting --run_atom--> round r: edge_ins to every edge with clients
//     --(all edge_res / edge errors)--> apply update, report --> round r+1 ... --> done
//
struct server_state {
  server_config cfg;
  std::unique_ptr<sampler> pick;
  std::unique_ptr<router> route;
  param_blob model;
  uint64_t version = 0;
  uint32_t round = 0;  // rounds completed
  bool running = false;
  caf::typed_response_promise<run_report> promise;
  run_report report;

  // The round in progress.
  size_t pending_edges = 0;
  weighted_accumulator acc;
  round_record rec;
  std::chrono::steady_clock::time_point started;

  static inline const char* name = "fedactor.server";
};

server_actor::behavior_type server(server_actor::stateful_pointer<server_state> self,
                                   server_config cfg);

// Applies one aggregated step: model + server_lr * (Σ w·Δ / Σ w). Unchanged when empty.
std::vector<float> apply_update(const std::vector<float>& model, const weighted_accumulator& acc,
                                double server_lr);

}  // namespace fedactor
