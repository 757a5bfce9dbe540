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
                                   std::shared_ptr<const data_source> source, caf::actor trainers) {
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
        auto rp = self->make_response_promise<train_res>();
        auto timeout =
            std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(ins.timeout_s));
        self->request(trainers, timeout, train_task{std::move(ins), self->state.data})
            .then([rp](train_res& res) mutable { rp.deliver(std::move(res)); },
                  [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
  };
}

}  // namespace fedactor
