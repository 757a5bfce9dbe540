#pragma once

// Internal to the edge actor's sources (actors/edge.cpp, edge_host_batch.cpp,
// edge_async_tasks.cpp; include it nowhere else): the edge's state, and the steps of edge.cpp
// that the host-batch and async task paths call (the slot pump, the end of a sync round, the
// population check). The edge's interface is actors/edge.hpp.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/edge.hpp"
#include "actors/live_clients.hpp"
#include "messages/train.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/protocol/edge_round.hpp"
#include "runtime/protocol/preaggregation.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/protocol/subtree_fold.hpp"
#include "runtime/protocol/task_slots.hpp"

namespace fedactor::edge_detail {

// One client task waiting for a slot; `done` gets the checked result or the failure, the
// size in bytes of the update the client sent (0 when it sent none) and, when the edge refused
// the client's result, the refusal's reason.
struct job {
  train_ins ins;
  std::function<void(train_res*, failure_code, const std::string& reason, uint64_t bytes,
                     std::optional<result_refusal> refused)>
      done;
};

struct edge_state {
  edge_config cfg;
  // Async models received from a server in another process, by version (cfg.model_window).
  model_cache models;
  live_clients live;  // client actors trained at this edge
  task_slots<job> slots;
  // The sync round in progress.
  std::optional<edge_round> round;
  caf::typed_response_promise<edge_res> round_promise;
  // Client results of the sync round in progress refused by reason (sent with edge_res).
  result_refusal_counts round_refused{};
  // Aggregation trees: the round's task (its clients aside), the batches sent to child edges
  // and not answered yet, and the fold of their answers (set while the round has children).
  struct child_part {
    uint32_t child;
    caf::actor_addr edge;
    std::vector<uint32_t> clients;
    bool host = false;  // a client host's batch (host aggregation), not a child edge's
  };
  std::optional<edge_ins> round_ins;
  std::vector<child_part> parts;
  std::optional<subtree_fold> tree;
  std::vector<caf::actor_addr> watched;  // child edges monitored
  std::string aggregation_off;           // why host aggregation is off (logged once per reason)
  // Async pre-aggregation: the groups, and the promise of each member waiting for its answer.
  preaggregation groups;
  std::unordered_map<uint64_t, caf::typed_response_promise<async_res>> members;
  // Bytes of the updates folded into each open group (compressed or not), sent with its
  // aggregate.
  std::unordered_map<uint64_t, uint64_t> group_bytes;

  static inline const char* name = "fedactor.edge";
};

using edge_ptr = local_edge_actor::stateful_pointer<edge_state>;

caf::timespan seconds(double s);

// Starts queued jobs while slots are free.
void pump(edge_ptr self);

// Answers the sync round in progress once every client and every part sent away is done.
void finish_round_if_done(edge_ptr self);

// The refusal of a task naming a client outside the population, if it does.
std::optional<caf::error> outside_population(const edge_config& cfg, uint64_t id);

}  // namespace fedactor::edge_detail
