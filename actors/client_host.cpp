// The client host actor: a bounded, lazily filled set of client actors behind one handle.

#include "actors/client_host.hpp"

#include <chrono>

#include "messages/errors.hpp"

namespace fedactor {

namespace {

using host_ptr = client_host_control_actor::stateful_pointer<client_host_state>;

// Ends the current watch with `reason` plus this host's counts so far.
void finish(host_ptr self, std::string reason) {
  auto& st = self->state;
  reason += " (" + std::to_string(st.tasks) + " tasks trained, " + std::to_string(st.failures) +
            " failed, " + std::to_string(st.live.evictions()) + " evictions)";
  if (st.end_pending) {
    st.end_pending = false;
    st.end.deliver(std::move(reason));
  } else {
    st.end_reason = std::move(reason);
  }
}

}  // namespace

client_host_control_actor::behavior_type client_host(host_ptr self, client_host_config cfg) {
  if (cfg.max_live == 0) cfg.max_live = 1;
  self->state.live.set_capacity(cfg.max_live);
  self->state.cfg = std::move(cfg);
  // A client that dies fails its task (its pending request errors out) and is forgotten.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.live.forget(msg.source)) self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    if (!self->state.edge || msg.source != self->state.edge.address()) return;
    self->state.edge = nullptr;
    finish(self, "lost: " + describe(msg.reason));
  });
  return {
      [=](train_ins& ins) -> caf::result<train_res> {
        auto& st = self->state;
        const uint32_t id = ins.client;
        if (id < st.cfg.first || id > st.cfg.last) {
          ++st.failures;
          return make_error(errc::bad_request, "client " + std::to_string(id) +
                                                   " is not hosted here (" +
                                                   std::to_string(st.cfg.first) + "-" +
                                                   std::to_string(st.cfg.last) + ")");
        }
        auto rp = self->make_response_promise<train_res>();
        auto timeout =
            std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(ins.timeout_s));
        self->request(acquire_client(self, st.live, id, st.cfg.data, st.cfg.trainers, st.cfg.state),
                      timeout, std::move(ins))
            .then(
                [=](train_res& res) mutable {
                  self->state.live.release(id);
                  ++self->state.tasks;
                  rp.deliver(std::move(res));
                },
                [=](caf::error& err) mutable {
                  self->state.live.release(id);
                  ++self->state.failures;
                  rp.deliver(std::move(err));
                });
        return rp;
      },
      [=](node_shutdown& msg) -> node_ack {
        finish(self, "shutdown: " + msg.reason);
        return node_ack{true, "bye"};
      },
      [=](stop_atom, std::string& reason) { finish(self, "stopped: " + reason); },
      [=](watch_atom, caf::actor edge) {
        // An end already recorded stays: a shutdown the edge sent between accepting this
        // host and this watch still ends the host's run (await_end consumes it).
        self->state.edge = edge;
        self->monitor(edge);
      },
      [=](await_end_atom) -> caf::result<std::string> {
        auto& st = self->state;
        if (!st.end_reason.empty()) {
          auto r = std::move(st.end_reason);
          st.end_reason.clear();
          return r;
        }
        st.end = self->make_response_promise<std::string>();
        st.end_pending = true;
        return st.end;
      },
  };
}

}  // namespace fedactor
