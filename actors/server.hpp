#pragma once

// The server. Sync: samples clients each round, routes them to their edges, merges the
// edges' aggregates, applies the server update, reports each round. Async (FedBuff): keeps
// `async.concurrency` client tasks in flight, folds their updates into the staleness-aware
// buffer as they finish (in simulated-finish order under the simulated clock), steps the
// model each time the buffer is full. Either way it answers run_atom with the final report.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/edge.hpp"
#include "messages/async.hpp"
#include "messages/atoms.hpp"
#include "messages/node.hpp"
#include "messages/run.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/math/fedbuff.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/router.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/timing/release_queue.hpp"

namespace fedactor {

// edge_rejoin: a lost edge is back (distributed runs; sent by the server node's registrar).
using server_actor =
    caf::typed_actor<caf::replies_to<run_atom>::with<run_report>, caf::reacts_to<edge_rejoin>>;

struct server_config {
  scenario sc;
  std::vector<float> initial_model;
  std::shared_ptr<client_registry> registry;
  std::vector<edge_actor> edges;
  uint32_t edge_capacity = 1;  // live clients per edge (sizes the edge timeout)
  // Called on the server's thread after each round / async step, with the model it produced.
  std::function<void(const round_record&, const param_blob& model)> on_round;
  // Edge lost / rejoined, one line for a log; called on the server's thread.
  std::function<void(const std::string&)> on_event;
};

// Server state machine.
//
// sync:   waiting --run_atom--> round r: edge_ins to every edge with clients
//           --(all edge_res / edge errors)--> apply update, report --> round r+1 ... --> done
//
// async:  waiting --run_atom--> fill `concurrency` slots with async_ins
//           --async_res / error--> release in simulated-finish order --> fold into buffer
//           (step + report when full) --> refill the slot ... --> `aggregations` steps: done
//
// Edges are monitored. A lost edge (its process died, or its connection timed out because
// heartbeats stopped) is marked dead at once: its outstanding work goes to the surviving
// edges (faults.on_edge_loss: reroute) or counts as failed (drop); edge_rejoin revives it.
struct server_state {
  server_config cfg;
  std::unique_ptr<sampler> pick;
  std::unique_ptr<router> route;
  param_blob model;
  uint64_t version = 0;
  uint32_t round = 0;  // rounds (sync) or aggregations (async) completed
  bool running = false;
  caf::typed_response_promise<run_report> promise;
  run_report report;
  double sim_now = 0;  // simulated clock
  std::chrono::steady_clock::time_point started;

  // Edge liveness.
  std::vector<bool> edge_alive;
  std::vector<uint32_t> alive_edges;  // ascending indices of the live edges

  // The sync round in progress: batches of clients, at most one in flight per edge (an
  // edge trains one edge_ins at a time), the others queued behind it (rerouted work).
  struct batch {
    uint32_t edge;
    std::vector<uint32_t> clients;
  };
  std::unordered_map<uint64_t, batch> batches;  // outstanding (sent or queued), by id
  std::vector<uint64_t> edge_batch;             // per edge: batch in flight, 0 = none
  std::vector<std::deque<uint64_t>> backlog;    // per edge: batches queued behind it
  uint64_t next_batch = 1;
  weighted_accumulator acc;
  round_record rec;

  // Async.
  struct task {
    uint32_t client;
    uint32_t edge;
    uint64_t group;            // pre-aggregation group, 0 = forwarded
    async_ins ins;             // as sent (shares the model buffer), resent if the edge is lost
    uint32_t attempt = 0;      // answers to earlier attempts are ignored
    bool arrived = false;      // answered (or failed): nothing to resend
    uint32_t incarnation = 0;  // edge_incarnation[edge] when sent there
  };
  // Pre-aggregation: members whose held answer came before their group's aggregate. If the
  // edge is lost before the aggregate arrives, their updates are gone: counted as failures.
  struct held_group {
    uint32_t edge = 0;
    std::vector<uint32_t> clients;
  };
  std::unordered_map<uint64_t, held_group> held;  // by group id
  std::vector<uint32_t> edge_incarnation;         // per edge, +1 at each loss
  struct open_group {
    uint64_t id = 0;  // 0 = none open
    uint64_t base = 0;
    uint32_t size = 0;
  };
  std::vector<open_group> open_groups;  // per edge
  uint64_t next_group = 1;
  std::unique_ptr<fedbuff> buffer;
  release_queue<async_res> releases;
  std::unordered_map<uint64_t, task> tasks;  // in flight, by seq
  std::unordered_set<uint32_t> busy_clients;
  uint64_t next_seq = 0;
  uint32_t failures_since_step = 0;
  std::vector<std::string> failure_reasons;
  double sim_at_last_step = 0;
  uint32_t edges_lost_since_step = 0;
  uint32_t edges_rejoined_since_step = 0;
  uint32_t rerouted_since_step = 0;

  static inline const char* name = "fedactor.server";
};

server_actor::behavior_type server(server_actor::stateful_pointer<server_state> self,
                                   server_config cfg);

// Applies one aggregated step: model + server_lr * (Σ w·Δ / Σ w). Unchanged when empty.
std::vector<float> apply_update(const std::vector<float>& model, const weighted_accumulator& acc,
                                double server_lr);

}  // namespace fedactor
