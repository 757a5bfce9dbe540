#include "actors/client.hpp"

#include <chrono>
#include <exception>

#include <caf/typed_event_based_actor.hpp>

#include "actors/trainer.hpp"
#include "messages/errors.hpp"

namespace fedactor {

namespace {
std::atomic<uint64_t> live_clients{0};
}  // namespace

client_state::client_state() {
  ++live_clients;
}
client_state::~client_state() {
  --live_clients;
}

uint64_t live_client_actors() {
  return live_clients.load();
}

namespace {

using client_ptr = local_client_actor::stateful_pointer<client_state>;

// Builds the client's data unless it is already built; an error value if the source throws.
caf::error ensure_data(client_ptr self, const data_source& source) {
  if (self->state.data) return caf::none;
  try {
    self->state.data = std::make_shared<const client_dataset>(source.make(self->state.id));
  } catch (const std::exception& e) {
    return make_error(errc::training_failed, std::string{"cannot build data: "} + e.what());
  }
  return caf::none;
}

}  // namespace

local_client_actor::behavior_type client(client_ptr self, uint32_t id,
                                         std::shared_ptr<const data_source> source,
                                         caf::actor trainers,
                                         std::shared_ptr<client_state_store> state) {
  self->state.id = id;
  return {
      [=](train_ins& ins) -> caf::result<train_res> {
        if (ins.client != id)
          return make_error(errc::bad_request, "client " + std::to_string(id) +
                                                   " got a task for client " +
                                                   std::to_string(ins.client));
        if (auto err = ensure_data(self, *source)) return err;
        // The trainer answers the requester (the edge) directly: one message less per client,
        // no pending request here; the requester's timeout covers the whole task.
        return self->delegate(caf::actor_cast<trainer_actor>(trainers),
                              train_task{std::move(ins), self->state.data, state});
      },
      [=](prepare_atom) -> caf::result<uint32_t> {
        if (auto err = ensure_data(self, *source)) return err;
        return self->state.data->size();
      },
  };
}

}  // namespace fedactor
