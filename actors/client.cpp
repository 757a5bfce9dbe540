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

client_actor::behavior_type client(client_actor::stateful_pointer<client_state> self, uint32_t id,
                                   std::shared_ptr<const data_source> source, caf::actor trainers,
                                   std::shared_ptr<client_state_store> state) {
  self->state.id = id;
  return {
      [=](train_ins& ins) -> caf::result<train_res> {
        if (ins.client != id)
          return make_error(errc::bad_request, "client " + std::to_string(id) +
                                                   " got a task for client " +
                                                   std::to_string(ins.client));
        if (!self->state.data) {
          try {
            self->state.data = std::make_shared<const client_dataset>(source->make(id));
          } catch (const std::exception& e) {
            return make_error(errc::training_failed, std::string{"cannot build data: "} + e.what());
          }
        }
        // The trainer answers the requester (the edge) directly: one message less per client,
        // no pending request here; the requester's timeout covers the whole task.
        return self->delegate(caf::actor_cast<trainer_actor>(trainers),
                              train_task{std::move(ins), self->state.data, state});
      },
  };
}

}  // namespace fedactor
