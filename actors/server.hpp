#pragma once

// The server, a thin actor shell over the actor-free protocol loops (runtime/protocol): it
// turns what sync_loop or async_loop asks for into messages to the edges (each request with
// its timeout), feeds their answers, errors and the edges' loss and return back in, hands each
// record to the observer, and answers run_atom with the final report.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/node_id.hpp>
#include <caf/typed_actor.hpp>

#include "actors/edge.hpp"
#include "messages/atoms.hpp"
#include "messages/node.hpp"
#include "messages/run.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/protocol/loop_checkpoint.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/strategy_parts.hpp"

namespace fedactor {

// edge_rejoin: a lost edge is back (distributed runs; sent by the server node's registrar).
// stop_atom + reason: end the run now (a signal, federation::stop()); see spawn_server.
using server_actor =
    caf::typed_actor<caf::replies_to<run_atom>::with<run_report>, caf::reacts_to<edge_rejoin>,
                     caf::reacts_to<stop_atom, std::string>>;

struct server_config {
  scenario sc;
  std::vector<float> initial_model;
  // The model's parameters: the first `trainable` values, which the server optimizer steps
  // (the rest, buffers such as running statistics, take the plain weighted mean). 0 = all.
  size_t trainable = 0;
  std::shared_ptr<client_registry> registry;
  std::vector<edge_actor> edges;
  uint32_t edge_capacity = 1;  // live clients per edge (sizes the edge timeouts)
  strategy_parts parts;        // user-supplied algorithm parts; empty ones from the scenario
  // Called on the server's thread after each round / async step, with the model it produced.
  std::function<void(const round_record&, const param_blob& model)> on_round;
  // Edge lost / rejoined, one line for a log; called on the server's thread.
  std::function<void(const std::string&)> on_event;
  // How a refusal line names a peer besides its CAF node id: its address ("IP:port"), or
  // empty when unknown. Unset: the node id alone. Called on the server's thread.
  std::function<std::string(const caf::node_id&)> peer_address;
  // Checkpoints (docs/checkpoints.md). When set, the loop's state after every
  // checkpoint.every-th round / server step and after the last one is handed here, on the
  // server's thread, after the records of that step's rounds. Refused (std::invalid_argument
  // from the spawn) when the sampler cannot save its state.
  std::function<void(std::shared_ptr<const loop_checkpoint>)> on_checkpoint;
  // Called on the server's thread for a checkpoint before the end, before the next round's
  // tasks go out: snapshots the clients' state store for round `round`, returns the snapshot's
  // file name (stored in the checkpoint). Empty: no client state to snapshot.
  std::function<std::string(uint32_t round)> snapshot_client_state;
  // False: on_checkpoint gets the checkpoint at the end only (the clients' state lives in other
  // processes, so no mid-run checkpoint could hold it).
  bool mid_run_checkpoints = true;
  // A loop state to continue from (loop_checkpoint::state of this scenario's run); empty: a
  // fresh run. Throws checkpoint_error (from the spawn) when it does not fit.
  std::vector<char> resume_state;
  // True when the edges are in other processes (the server node): an async task carries its
  // model the first time an edge is sent that version (with its digest, computed once per
  // version), then a reference; an edge that cannot match one answers model_missing and gets
  // the task again with the model (docs/communication.md). False (one process): every task
  // shares the model's buffer, nothing is hashed.
  bool model_references = false;
};

// run_report::stopped_by of a run that a scripted server_crash ended (with a checkpoint taken
// at that point, from which the host resumes a new server: run_server_graph).
inline constexpr const char* server_crash_reason = "server_crash";

// The train settings every client task of the scenario carries.
train_settings train_settings_of(const scenario& sc);

// Server phases:
//
//   idle --run_atom--> running (sync_loop or async_loop) --last round / step--> done
//
// In every phase edges are monitored: a lost edge (its process died, or its connection timed
// out because heartbeats stopped) is marked dead in the edge set at once and its work goes to
// the survivors (faults.on_edge_loss: reroute) or counts as failed (drop); edge_rejoin revives
// it. A request that bounces off a handle a new registration has since replaced fails alone
// (edge_lost): the edge's successor stays in service. A second run_atom is refused (bad_request).
//
// stop_atom ends the run early: running, the loop stops (sync: the round in progress is
// abandoned; async: nothing more is dispatched, the tasks in flight are abandoned) and the
// run_atom request is answered at once with the last completed round's (step's) model and
// totals, `interrupted` set and `stopped_by` = the reason. Idle, the stop is kept: the next
// run_atom is answered at once the same way, with no round done. Done, it is ignored.
// Throws std::invalid_argument (from the spawn) when the scenario's algorithm parts cannot be
// built.
server_actor spawn_server(caf::actor_system& sys, server_config cfg);

}  // namespace fedactor
