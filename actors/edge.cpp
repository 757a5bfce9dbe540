#include "actors/edge.hpp"

#include <chrono>
#include <cmath>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errors.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr size_t max_reported_failures = 8;

using edge_ptr = edge_actor::stateful_pointer<edge_state>;

void record_failure(edge_ptr self, uint32_t client, const std::string& reason) {
  auto& st = self->state;
  ++st.res.failed;
  if (st.res.failures.size() < max_reported_failures)
    st.res.failures.push_back("client " + std::to_string(client) + ": " + reason);
}

client_actor& acquire(edge_ptr self, uint32_t id) {
  auto& st = self->state;
  auto it = st.live.find(id);
  if (it != st.live.end()) {
    if (!it->second.busy) st.idle_lru.erase(it->second.lru_pos);
    it->second.busy = true;
    return it->second.handle;
  }
  if (st.live.size() >= st.cfg.capacity && !st.idle_lru.empty()) {
    auto victim = st.idle_lru.back();
    st.idle_lru.pop_back();
    auto v = st.live.find(victim);
    self->unlink_from(v->second.handle);
    self->send_exit(v->second.handle, caf::exit_reason::user_shutdown);
    st.live.erase(v);
    ++st.evictions;
  }
  // Linked: when the edge goes, its clients go with it (pending request timeouts would
  // otherwise keep them alive).
  auto handle = self->spawn<caf::linked>(client, id, st.cfg.data, st.cfg.trainers);
  auto& slot = st.live[id];
  slot.handle = handle;
  slot.busy = true;
  st.peak_live = std::max(st.peak_live, st.live.size());
  return slot.handle;
}

void release(edge_ptr self, uint32_t id) {
  auto& st = self->state;
  auto it = st.live.find(id);
  if (it == st.live.end()) return;
  it->second.busy = false;
  st.idle_lru.push_front(id);
  it->second.lru_pos = st.idle_lru.begin();
}

void finish_if_done(edge_ptr self) {
  auto& st = self->state;
  if (!st.busy || st.in_flight > 0 || st.next < st.ins.clients.size()) return;
  st.res.round = st.ins.round;
  st.res.edge = st.cfg.id;
  st.res.succeeded = static_cast<uint32_t>(st.acc.count());
  st.res.aggregate = st.acc.serialize();
  st.res.live_clients = static_cast<uint32_t>(st.live.size());
  st.res.peak_live_clients = static_cast<uint32_t>(st.peak_live);
  st.res.evictions = st.evictions;
  st.busy = false;
  st.ins.model = param_blob{};
  st.promise.deliver(std::move(st.res));
  st.res = edge_res{};
  st.acc = weighted_accumulator{};
}

void fold(edge_ptr self, train_res& r) {
  auto& st = self->state;
  const uint32_t expected = st.cfg.data->num_samples(r.client);
  auto reason = check_update(r, st.ins, expected);
  if (!reason.empty()) {
    record_failure(self, r.client, "rejected update: " + reason);
    return;
  }
  const float* base = st.ins.model.data();
  const float* x = r.params.data();
  for (size_t i = 0; i < st.delta.size(); ++i) st.delta[i] = x[i] - base[i];
  if (!st.acc.add(st.delta.data(), static_cast<double>(r.num_samples), r.loss))
    record_failure(self, r.client, "rejected update: values out of range");
}

void dispatch(edge_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.cfg.capacity && st.next < st.ins.clients.size()) {
    const uint32_t id = st.ins.clients[st.next++];
    ++st.in_flight;
    train_ins task;
    task.round = st.ins.round;
    task.client = id;
    task.model_version = st.ins.model_version;
    task.task_seed = stream_key(st.ins.seed, rng_tag::shuffle, st.ins.round, id);
    task.model = st.ins.model;  // shared buffer, no copy
    task.settings = st.ins.settings;
    task.timeout_s = st.ins.client_timeout_s;
    auto timeout = std::chrono::duration_cast<caf::timespan>(
        std::chrono::duration<double>(st.ins.client_timeout_s));
    const uint32_t round = st.ins.round;
    self->request(acquire(self, id), timeout, std::move(task))
        .then(
            [=](train_res& r) {
              auto& s = self->state;
              if (!s.busy || s.ins.round != round) return;  // a late answer from a past round
              --s.in_flight;
              release(self, id);
              fold(self, r);
              dispatch(self);
              finish_if_done(self);
            },
            [=](caf::error& err) {
              auto& s = self->state;
              if (!s.busy || s.ins.round != round) return;
              --s.in_flight;
              release(self, id);
              record_failure(self, id, describe(err));
              dispatch(self);
              finish_if_done(self);
            });
  }
}

}  // namespace

std::string check_update(const train_res& res, const edge_ins& ins, uint32_t expected_samples) {
  if (res.round != ins.round) return "answer for round " + std::to_string(res.round);
  if (res.params.size() != ins.model.size())
    return "has " + std::to_string(res.params.size()) + " parameters, expected " +
           std::to_string(ins.model.size());
  if (res.num_samples == 0 || res.num_samples != expected_samples)
    return "claims " + std::to_string(res.num_samples) + " samples, registry says " +
           std::to_string(expected_samples);
  if (!std::isfinite(res.loss)) return "non-finite loss";
  const float* p = res.params.data();
  for (size_t i = 0; i < res.params.size(); ++i)
    if (!std::isfinite(p[i])) return "non-finite parameter at index " + std::to_string(i);
  return {};
}

edge_actor::behavior_type edge(edge_actor::stateful_pointer<edge_state> self, edge_config cfg) {
  if (cfg.capacity == 0) cfg.capacity = 1;
  self->state.cfg = std::move(cfg);
  // A client that dies fails its task (the pending request errors out) and is forgotten;
  // the edge lives on. An exit from anyone else (the host shutting down) ends the edge.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto it = st.live.begin(); it != st.live.end(); ++it) {
      if (it->second.handle.address() != msg.source) continue;
      if (!it->second.busy) st.idle_lru.erase(it->second.lru_pos);
      st.live.erase(it);
      return;
    }
    self->quit(msg.reason);
  });
  return {
      [=](edge_ins& ins) -> caf::result<edge_res> {
        auto& st = self->state;
        if (st.busy)
          return make_error(errc::bad_request, "edge " + std::to_string(st.cfg.id) +
                                                   " is still training round " +
                                                   std::to_string(st.ins.round));
        st.busy = true;
        st.ins = std::move(ins);
        st.next = 0;
        st.in_flight = 0;
        st.acc = weighted_accumulator{st.ins.model.size()};
        st.delta.assign(st.ins.model.size(), 0.0f);
        st.res = edge_res{};
        st.promise = self->make_response_promise<edge_res>();
        auto rp = st.promise;
        dispatch(self);
        finish_if_done(self);
        return rp;
      },
  };
}

}  // namespace fedactor
