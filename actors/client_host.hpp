#pragma once

// A client host (distributed runs, docs/deployment.md): hosts the client actors of one id
// range first..last with their local data, and a local trainer pool. Its edge sends it
// train_ins for those ids exactly as it would send them to a client; the host creates the
// client actor on first use (its data built from the scenario, as in one process), keeps at
// most `max_live` of them (the least recently used idle one is evicted) and answers with
// the client's train_res. Across processes the edge's link sends host_task instead: the
// model once per version, then a reference the host resolves from its model cache
// (runtime/host/model_cache.hpp) after checking the digest; a reference it cannot match is
// answered with errc::model_missing (the link then sends the full model). In sync rounds with
// host aggregation (docs/communication.md) the link sends one host_batch per round instead:
// the host's clients of the round, trained and folded by a local edge actor into one exact
// aggregate, answered as edge_res (per-client reports and failures, no per-client updates).
//
// Published to the edge: client_host_actor. The host node's main thread holds the full
// client_host_control_actor to learn when to leave (shutdown) or reconnect (edge lost).

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/client.hpp"
#include "actors/edge.hpp"
#include "actors/live_clients.hpp"
#include "messages/atoms.hpp"
#include "messages/host_batch.hpp"
#include "messages/host_task.hpp"
#include "messages/node.hpp"
#include "messages/train.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/learning/data_source.hpp"

namespace fedactor {

using client_host_actor = caf::typed_actor<
    caf::replies_to<train_ins>::with<train_res>, caf::replies_to<host_task>::with<train_res>,
    caf::replies_to<host_batch>::with<edge_res>, caf::replies_to<node_shutdown>::with<node_ack>>;

using watch_atom = caf::atom_constant<caf::atom("watch")>;         // monitor this peer
using await_end_atom = caf::atom_constant<caf::atom("awaitend")>;  // answered when done

using client_host_control_actor = client_host_actor::extend<
    // Monitor this edge node: its loss answers await_end with "lost: ...".
    caf::reacts_to<watch_atom, caf::actor>,
    // The host leaves on purpose (a signal): await_end answers "stopped: REASON".
    caf::reacts_to<stop_atom, std::string>,
    // Answered once: "shutdown: REASON" (the run is over), "lost: REASON" (the edge is gone)
    // or "stopped: REASON".
    caf::replies_to<await_end_atom>::with<std::string>,
    // Before the host joins its edge in a sync run: builds every hosted client's data in its
    // batch edge's client actors (spawning that edge), so the first round trains as fast as
    // the next; answered with the clients prepared, 0 when the range does not fit max_live
    // (its clients stay built on first use).
    caf::replies_to<prepare_atom>::with<uint32_t>>;

struct client_host_config {
  uint32_t first = 0;  // ids first..last, inclusive
  uint32_t last = 0;
  uint32_t max_live = 200;  // client actors alive at once
  std::shared_ptr<const data_source> data;
  caf::actor trainers;
  std::shared_ptr<client_state_store> state;  // the hosted clients' algorithm state, or null
  std::function<void(const std::string&)> log;
  // Model versions kept below the newest one received (model_cache's window): 0 in sync runs
  // (the latest only), the staleness threshold in async runs.
  uint64_t model_window = 0;
};

struct client_host_state {
  client_host_config cfg;
  live_clients live;      // the hosted client actors alive now
  uint64_t tasks = 0;     // train_ins answered with a result
  uint64_t failures = 0;  // train_ins answered with an error
  model_cache models;     // the models received by version (host_task, host_batch)
  local_edge_actor
      batch_edge;   // folds sync batches (host aggregation); spawned by prepare or the first batch
  caf::actor edge;  // watched edge node
  caf::typed_response_promise<std::string> end;
  bool end_pending = false;
  std::string end_reason;  // set before anyone awaited
  static inline const char* name = "fedactor.client_host";
};

client_host_control_actor::behavior_type client_host(
    client_host_control_actor::stateful_pointer<client_host_state> self, client_host_config cfg);

}  // namespace fedactor
