#pragma once

// The trainer pool: one detached actor per core running local SGD (LibTorch) so that the
// routing actors (server, edges, clients) never block a scheduler thread. Clients send a
// train_task to the pool; a free trainer answers with the train_res.

#include <cstdint>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/train.hpp"
#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/model_spec.hpp"

namespace fedactor {

// A unit of work for a trainer: the client's request plus its local data (shared, local
// to the process hosting the client: never crosses the network).
struct train_task {
  train_ins ins;
  std::shared_ptr<const client_dataset> data;
};

using trainer_actor = caf::typed_actor<caf::replies_to<train_task>::with<train_res>>;

// Spawns `workers` detached trainers (0 = one per core) behind a round-robin actor_pool.
caf::actor spawn_trainer_pool(caf::actor_system& sys, const model_spec& spec, uint32_t workers);

}  // namespace fedactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedactor::train_task)
