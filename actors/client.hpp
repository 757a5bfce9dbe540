#pragma once

// A federated client: owns its id and its local data (built on first use from the data
// source, or ahead of it when asked to prepare; dropped when the actor is evicted) and trains
// through the trainer pool.

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/train.hpp"
#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

// Where a client's task trains: a client actor, or the link to the client host that holds it.
using client_actor = caf::typed_actor<caf::replies_to<train_ins>::with<train_res>>;

// The client actor itself also takes prepare_atom: build the local data now (if not built
// yet), answered with its number of samples.
using local_client_actor = client_actor::extend<caf::replies_to<prepare_atom>::with<uint32_t>>;

struct client_state {
  client_state();
  ~client_state();
  uint32_t id = 0;
  std::shared_ptr<const client_dataset> data;  // built on the first train_ins or prepare
  static inline const char* name = "fedactor.client";
};

// Number of client actors alive in this process right now (their state exists).
uint64_t live_client_actors();

// `state`: where the client's algorithm state lives (null when the algorithm keeps none).
local_client_actor::behavior_type client(local_client_actor::stateful_pointer<client_state> self,
                                         uint32_t id, std::shared_ptr<const data_source> source,
                                         caf::actor trainers,
                                         std::shared_ptr<client_state_store> state = nullptr);

}  // namespace fedactor
