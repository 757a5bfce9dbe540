#pragma once

// An edge aggregator, as a thin actor shell over runtime/protocol's edge classes. Sync: trains
// the clients the server routes to it for a round and folds their updates into one streaming
// aggregate (edge_round). Async: trains single client tasks and forwards each update, or
// pre-aggregates the updates of one group (preaggregation). Client tasks wait for a free
// slot of the bounded live set (task_slots); client actors are created lazily, the least
// recently used idle one evicted beyond `capacity`, or the task goes to a remote client host
// (provider). Every result is checked (update_check) before it is folded. In a sync round with
// host aggregation the clients of each remote client host go to it in one batch and come back
// as one checked aggregate (edge_config::batches).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "actors/client.hpp"
#include "messages/async.hpp"
#include "messages/atoms.hpp"
#include "messages/edge.hpp"
#include "runtime/learning/data_source.hpp"

namespace fedactor {

class edge_children;

using edge_actor =
    caf::typed_actor<caf::replies_to<edge_ins>::with<edge_res>,
                     caf::replies_to<async_ins>::with<async_res>, caf::reacts_to<group_close>>;

// The edge actor itself (what spawn_edge returns) also takes prepare_atom, first, last: build
// clients first..last's data in its own client actors now, before a round needs them (a client
// host's batch edge; refused when they do not fit the live set or train elsewhere), answered
// with the number prepared.
using local_edge_actor =
    edge_actor::extend<caf::replies_to<prepare_atom, uint32_t, uint32_t>::with<uint32_t>>;

// Takes a sync round's batch of clients and answers one aggregate for them: a remote client
// host's link under host aggregation (actors/edge_node.hpp, docs/communication.md).
using batch_actor = caf::typed_actor<caf::replies_to<edge_ins>::with<edge_res>>;

struct edge_config {
  uint32_t id = 0;
  uint32_t capacity = 20;  // client tasks in flight at most (and live client actors)
  std::shared_ptr<const data_source> data;
  caf::actor trainers;
  // Where a client trains. Unset, or returning an invalid handle: in a client actor this
  // edge spawns (the bounded live set). Otherwise the task goes to the returned actor, e.g.
  // the link to the remote client host covering the id (actors/edge_node.hpp). Called on
  // the edge's thread for every task.
  std::function<client_actor(uint32_t id)> provider = {};
  // Where the clients trained here keep their algorithm state (null: none kept).
  std::shared_ptr<client_state_store> state = {};
  // The population's size: a task naming a client id at or above it is refused (bad_request)
  // before anything is looked up. 0: not checked (the caller vouches for its ids).
  uint64_t population = 0;
  // Simulated attackers (attack.*, docs/robustness.md): a malicious client's answer is altered
  // here, before it is checked, as if the client had sent it. kind none: no one.
  attack_config attack = {};
  // A client result from a `provider` handle (a remote client host's link) that fails its
  // checks (runtime/protocol/update_check): the handle, the client and the reason, called on
  // the edge's thread (the host node logs a line naming the peer). Unset: not reported (the
  // failure is counted either way).
  std::function<void(const caf::actor_addr& from, uint32_t client, const std::string& why)>
      on_refusal = {};
  // A middle edge of an aggregation tree (actors/edge_children.hpp, docs/deployment.md): each
  // client of a sync round that a child's subtree hosts goes to that child in one edge_ins
  // per child; the children's checked aggregates are folded with this edge's own part
  // (runtime/protocol/subtree_fold). A child lost mid-round: its clients train here. Null or
  // empty: no children.
  std::shared_ptr<edge_children> children = {};
  // Host aggregation (docs/communication.md; `fedactor node edge --host-aggregation`): in a sync
  // round whose settings allow it (runtime/protocol/host_aggregation), the clients whose `provider`
  // handle has a batch handle here go to it in one batch per handle; its answer (one aggregate) is
  // checked against this edge's record (runtime/protocol/host_batch_check) and folded as a
  // child edge's. A batch that fails (the host lost, a timeout) fails its clients with the
  // error's code; one refused counts them as invalid_update. Unset: one task per client.
  std::function<batch_actor(uint32_t id)> batches = {};
  bool host_aggregation = true;
  // A batch answer refused by the checks: the handle and the reason (logged naming the peer).
  std::function<void(const caf::actor_addr& from, const std::string& why)> on_batch_refusal = {};
  // One line for the operator (why a run's rounds keep one update per client). Unset: none.
  std::function<void(const std::string&)> log = {};
  // Async tasks from a server in another process (messages/async.hpp): the models received
  // are kept by version, the newest and the `model_window` versions below it (the run's
  // async.staleness_threshold), so later tasks of a version come as references and share
  // one buffer. A reference not matched by version and digest is answered model_missing.
  uint64_t model_window = 0;
};

// Edge state machine (sync):
//
//   idle --edge_ins--> training --(all clients answered or failed)--> idle (edge_res sent)
//
// Async tasks queue alongside; a sync round and async tasks share the slots. An edge_ins
// while a round is in progress is refused (bad_request). A client that dies fails its task;
// an exit from anyone else (the host shutting down) ends the edge.
local_edge_actor spawn_edge(caf::actor_system& sys, edge_config cfg);

}  // namespace fedactor
