#pragma once

// A federated client: owns its id and its local data (built on first use from the data
// source, dropped when the actor is evicted) and trains through the trainer pool.

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/train.hpp"
#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

using client_actor = caf::typed_actor<caf::replies_to<train_ins>::with<train_res>>;

struct client_state {
  client_state();
  ~client_state();
  uint32_t id = 0;
  std::shared_ptr<const client_dataset> data;  // materialised on the first train_ins
  static inline const char* name = "fedactor.client";
};

// Number of client actors alive in this process right now (their state exists).
uint64_t live_client_actors();

// `state`: where the client's algorithm state lives (null when the algorithm keeps none).
client_actor::behavior_type client(client_actor::stateful_pointer<client_state> self, uint32_t id,
                                   std::shared_ptr<const data_source> source, caf::actor trainers,
                                   std::shared_ptr<client_state_store> state = nullptr);

}  // namespace fedactor
