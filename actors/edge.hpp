#pragma once

// An edge aggregator. Sync: trains the clients the server routes to it for a round and
// folds their updates into one streaming aggregate. Async: trains single client tasks and
// forwards each update, or pre-aggregates the updates that share a base version.
// Client actors are created lazily and kept in a bounded live set; beyond `capacity` the
// least recently used idle client is evicted.

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/client.hpp"
#include "actors/live_clients.hpp"
#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/math/accumulator.hpp"

namespace fedactor {

using edge_actor =
    caf::typed_actor<caf::replies_to<edge_ins>::with<edge_res>,
                     caf::replies_to<async_ins>::with<async_res>, caf::reacts_to<group_close>>;

struct edge_config {
  uint32_t id = 0;
  uint32_t capacity = 20;  // live client actors at most
  std::shared_ptr<const data_source> data;
  caf::actor trainers;
  // Where a client trains. Unset, or returning an invalid handle: in a client actor this
  // edge spawns (the bounded live set). Otherwise the task goes to the returned actor, e.g.
  // the link to the remote client host covering the id (actors/edge_node.hpp). Called on
  // the edge's thread for every task.
  std::function<client_actor(uint32_t id)> provider = {};
};

// Edge state machine (sync):
//
//   idle --edge_ins--> training --(all clients answered or failed)--> idle (edge_res sent)
//
// Async tasks queue alongside; a sync round and async tasks share the live-client slots:
// at most `capacity` clients train at once, each finished one frees a slot for the next job.
struct edge_state {
  // One client task waiting for a slot; `done` gets the result or the failure reason.
  struct job {
    train_ins ins;
    std::function<void(train_res*, const std::string& failure)> done;
  };

  // Async pre-aggregation: a group of updates sharing one base version.
  struct group {
    uint64_t base = 0;
    weighted_accumulator acc;
    struct member {
      uint64_t seq;
      uint32_t client;
      double finish;
      caf::typed_response_promise<async_res> promise;
    };
    std::vector<member> members;
    uint32_t failed = 0;    // members whose task failed
    uint32_t expected = 0;  // final size once closed (0 = still open)
  };

  edge_config cfg;
  live_clients live;  // client actors trained at this edge
  std::deque<job> queue;
  size_t in_flight = 0;

  // The sync round in progress.
  bool busy = false;
  edge_ins ins;
  caf::typed_response_promise<edge_res> promise;
  size_t round_pending = 0;
  weighted_accumulator acc;
  edge_res res;

  std::map<uint64_t, group> groups;  // by group id

  static inline const char* name = "fedactor.edge";
};

edge_actor::behavior_type edge(edge_actor::stateful_pointer<edge_state> self, edge_config cfg);

// Checks a client's result against its request: shape, finite values, sample count.
// Returns an empty string when acceptable, else the reason.
std::string check_update(const train_res& res, const train_ins& ins, uint32_t expected_samples);

}  // namespace fedactor
