// The client host actor: a bounded, lazily filled set of client actors behind one handle.

#include "actors/client_host.hpp"

#include <algorithm>
#include <chrono>

#include "messages/errors.hpp"
#include "runtime/protocol/failure.hpp"

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

// Trains `ins` in the client actor of its id (created if needed) within the task's timeout.
caf::result<train_res> train(host_ptr self, train_ins ins) {
  auto& st = self->state;
  const uint32_t id = ins.client;
  if (id < st.cfg.first || id > st.cfg.last) {
    ++st.failures;
    return make_error(errc::bad_request, "client " + std::to_string(id) + " is not hosted here (" +
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
}

// A task's model (`model`, of `version`): the full model it carries (checked against
// `digest`, then cached) or the cached model its reference names; an error when neither holds.
// `what` names the task in errors.
caf::error resolve_model(host_ptr self, uint64_t version, param_blob& model,
                         const std::string& digest, bool by_reference, const std::string& what) {
  auto& st = self->state;
  switch (st.models.resolve(version, model, digest, by_reference)) {
    case model_resolution::resolved:
      return caf::none;
    case model_resolution::digest_mismatch:
      return make_error(errc::bad_request, what + ": model version " + std::to_string(version) +
                                               " does not match its digest " + digest);
    case model_resolution::refers_and_carries:
      return make_error(errc::bad_request,
                        what + ": a task that both refers to and carries a model");
    case model_resolution::missing:
      break;
  }
  return make_error(errc::model_missing, "client host " + std::to_string(st.cfg.first) + "-" +
                                             std::to_string(st.cfg.last) +
                                             " holds no model version " + std::to_string(version) +
                                             " with digest " + digest);
}

// The local edge actor that folds this host's sync batches, spawned (and linked) on first use.
void ensure_batch_edge(host_ptr self) {
  auto& st = self->state;
  if (st.batch_edge) return;
  edge_config ecfg{st.cfg.first, st.cfg.max_live, st.cfg.data, st.cfg.trainers};
  ecfg.state = st.cfg.state;
  st.batch_edge = spawn_edge(self->home_system(), std::move(ecfg));
  self->link_to(st.batch_edge);
}

// Every hosted client's data built in the batch edge's client actors, when they all fit.
caf::result<uint32_t> prepare(host_ptr self) {
  auto& st = self->state;
  if (uint64_t{st.cfg.last} - st.cfg.first + 1 > st.cfg.max_live) return uint32_t{0};
  ensure_batch_edge(self);
  auto rp = self->make_response_promise<uint32_t>();
  self->request(st.batch_edge, caf::infinite, prepare_atom::value, st.cfg.first, st.cfg.last)
      .then([=](uint32_t n) mutable { rp.deliver(n); },
            [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// A sync round's batch (host aggregation): its clients trained and folded by this host's
// local edge actor (spawned on first use, linked), answered with that edge's aggregate.
caf::result<edge_res> train_batch(host_ptr self, host_batch& b) {
  auto& st = self->state;
  const std::string what = "batch of round " + std::to_string(b.ins.round);
  if (auto err = resolve_model(self, b.ins.model_version, b.ins.model, b.model_digest,
                               b.model_by_reference, what))
    return err;
  for (auto id : b.ins.clients)
    if (id < st.cfg.first || id > st.cfg.last)
      return make_error(errc::bad_request,
                        what + ": client " + std::to_string(id) + " is not hosted here (" +
                            std::to_string(st.cfg.first) + "-" + std::to_string(st.cfg.last) + ")");
  ensure_batch_edge(self);
  const auto n = b.ins.clients.size();
  auto rp = self->make_response_promise<edge_res>();
  // The host answers within its edge's bound (the edge holds its own, longer, one).
  const auto timeout = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(b.ins.client_timeout_s * static_cast<double>(n) + 30));
  self->request(st.batch_edge, timeout, std::move(b.ins))
      .then(
          [=](edge_res& res) mutable {
            auto failed = failure_counts::from_wire(res.failed_by);
            uint64_t failures = 0;
            if (failed)
              for (auto c : failed->by_code) failures += c;
            self->state.failures += failures;
            self->state.tasks += n - std::min<uint64_t>(n, failures);
            rp.deliver(std::move(res));
          },
          [=](caf::error& err) mutable {
            self->state.failures += n;
            rp.deliver(std::move(err));
          });
  return rp;
}

}  // namespace

client_host_control_actor::behavior_type client_host(host_ptr self, client_host_config cfg) {
  if (cfg.max_live == 0) cfg.max_live = 1;
  self->state.live.set_capacity(cfg.max_live);
  self->state.models = model_cache{cfg.model_window};
  self->state.cfg = std::move(cfg);
  // A client that dies fails its task (its pending request errors out) and is forgotten; an
  // exit from anyone else (the host's batch edge, the node shutting down) ends the host.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.live.forget(msg.source)) self->quit(msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    if (!self->state.edge || msg.source != self->state.edge.address()) return;
    self->state.edge = nullptr;
    finish(self, "lost: " + describe(msg.reason));
  });
  return {
      [=](train_ins& ins) -> caf::result<train_res> { return train(self, std::move(ins)); },
      [=](host_task& t) -> caf::result<train_res> {
        if (auto err =
                resolve_model(self, t.ins.model_version, t.ins.model, t.model_digest,
                              t.model_by_reference, "client " + std::to_string(t.ins.client)))
          return err;
        return train(self, std::move(t.ins));
      },
      [=](host_batch& b) -> caf::result<edge_res> { return train_batch(self, b); },
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
      [=](prepare_atom) -> caf::result<uint32_t> { return prepare(self); },
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
