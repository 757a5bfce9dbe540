#pragma once

// The trainer pool: one detached actor per core running local SGD so that the routing
// actors (server, edges, clients) never block a scheduler thread. Clients send a
// train_task to the pool; a trainer answers with the train_res.
//
// MLP models train through the batched kernels (runtime/learning/batched_training.hpp): a
// trainer stashes the tasks waiting in its mailbox and trains them together, answering
// each through its response promise. Other models train one by one with LibTorch
// (local_trainer). Either way a client's result depends only on its own task (and its own
// state: the client algorithm of the task's settings, runtime/strategy/client_algorithm.hpp,
// plans each task and keeps the client's state in the state store).

#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/train.hpp"
#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

// A unit of work for a trainer: the client's request plus its local data (shared, local
// to the process hosting the client: never crosses the network).
struct train_task {
  train_ins ins;
  std::shared_ptr<const client_dataset> data;
  // Where the client's own state lives (SCAFFOLD's c_i, FedBN's layers); null when the run's
  // algorithm keeps none.
  std::shared_ptr<client_state_store> state;
};

// A trainer sends itself this after stashing a task: it arrives behind every task that
// was already queued, and then the stash is trained.
using trainer_flush_atom = caf::atom_constant<caf::atom("tflush")>;

using trainer_actor = caf::typed_actor<caf::replies_to<train_task>::with<train_res>,
                                       caf::reacts_to<trainer_flush_atom>>;

// Where trainers run. Detached: a thread each, woken through its mailbox. Scheduled: on
// the actor system's scheduler threads, which spares the wake-ups (measured: about 15% less
// CPU per client on W1) but keeps a scheduler thread busy while a trainer has work.
enum class trainer_placement {
  automatic,  // scheduled when the scheduler has at least twice as many threads as trainers
              // (threads left for the routing actors), else detached
  detached,
  scheduled,
};

struct trainer_options {
  // Use the batched kernels for models they support (MLPs); false = LibTorch for all.
  bool batched = true;
  trainer_placement placement = trainer_placement::automatic;
  // Most tasks trained between two deliveries: a stash larger than this is trained in
  // chunks, each chunk answered as soon as it is done, so clients and edges keep busy.
  uint32_t chunk = 16;
};

// Spawns one trainer (automatic placement: as for a pool of one).
trainer_actor spawn_trainer(caf::actor_system& sys, const model_spec& spec,
                            trainer_options opts = {});

// Spawns `workers` trainers (0 = one per core) behind a round-robin actor_pool.
caf::actor spawn_trainer_pool(caf::actor_system& sys, const model_spec& spec, uint32_t workers,
                              trainer_options opts = {});

}  // namespace fedactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedactor::train_task)
