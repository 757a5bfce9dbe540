#include "actors/edge.hpp"

#include <chrono>
#include <cmath>

#include "messages/errors.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr size_t max_reported_failures = 8;

using edge_ptr = edge_actor::stateful_pointer<edge_state>;

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

// Starts queued jobs while live-client slots are free.
void pump(edge_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.cfg.capacity && !st.queue.empty()) {
    auto j = std::move(st.queue.front());
    st.queue.pop_front();
    ++st.in_flight;
    const uint32_t id = j.ins.client;
    auto timeout = seconds(j.ins.timeout_s);
    auto ins = j.ins;  // kept for validating the answer
    auto done = std::move(j.done);
    client_actor target;
    if (st.cfg.provider) target = st.cfg.provider(id);
    const bool local = !target;
    if (local) target = acquire_client(self, st.live, id, st.cfg.data, st.cfg.trainers);
    self->request(target, timeout, std::move(j.ins))
        .then(
            [=](train_res& r) {
              --self->state.in_flight;
              if (local) self->state.live.release(id);
              const uint32_t expected = self->state.cfg.data->num_samples(id);
              auto reason = check_update(r, ins, expected);
              if (reason.empty())
                done(&r, {});
              else
                done(nullptr, "rejected update: " + reason);
              pump(self);
            },
            [=](caf::error& err) {
              --self->state.in_flight;
              if (local) self->state.live.release(id);
              done(nullptr, describe(err));
              pump(self);
            });
  }
}

// -- sync rounds ---------------------------------------------------------------------------

void record_failure(edge_ptr self, uint32_t client, const std::string& reason) {
  auto& st = self->state;
  ++st.res.failed;
  if (st.res.failures.size() < max_reported_failures)
    st.res.failures.push_back("client " + std::to_string(client) + ": " + reason);
}

void finish_round_if_done(edge_ptr self) {
  auto& st = self->state;
  if (!st.busy || st.round_pending > 0) return;
  st.res.round = st.ins.round;
  st.res.edge = st.cfg.id;
  st.res.succeeded = static_cast<uint32_t>(st.acc.count());
  st.res.aggregate = st.acc.serialize();
  st.res.live_clients = static_cast<uint32_t>(st.live.size());
  st.res.peak_live_clients = static_cast<uint32_t>(st.live.peak());
  st.res.evictions = st.live.evictions();
  st.busy = false;
  st.ins.model = param_blob{};
  st.promise.deliver(std::move(st.res));
  st.res = edge_res{};
  st.acc = weighted_accumulator{};
}

void fold_round(edge_ptr self, const train_res& r) {
  auto& st = self->state;
  // Δ = params − round model, folded in the accumulator's single pass.
  if (!st.acc.add_difference(r.params.data(), st.ins.model.data(),
                             static_cast<double>(r.num_samples), r.loss))
    record_failure(self, r.client, "rejected update: values out of range");
}

caf::result<edge_res> start_round(edge_ptr self, edge_ins& ins) {
  auto& st = self->state;
  if (st.busy)
    return make_error(errc::bad_request, "edge " + std::to_string(st.cfg.id) +
                                             " is still training round " +
                                             std::to_string(st.ins.round));
  st.busy = true;
  st.ins = std::move(ins);
  st.round_pending = st.ins.clients.size();
  st.acc = weighted_accumulator{st.ins.model.size()};
  st.res = edge_res{};
  st.promise = self->make_response_promise<edge_res>();
  auto rp = st.promise;
  const uint32_t round = st.ins.round;
  for (auto id : st.ins.clients) {
    train_ins task;
    task.round = round;
    task.client = id;
    task.model_version = st.ins.model_version;
    task.task_seed = stream_key(st.ins.seed, rng_tag::shuffle, round, id);
    task.model = st.ins.model;  // shared buffer, no copy
    task.settings = st.ins.settings;
    task.timeout_s = st.ins.client_timeout_s;
    st.queue.push_back(
        edge_state::job{std::move(task), [=](train_res* r, const std::string& failure) {
                          auto& s = self->state;
                          if (!s.busy || s.ins.round != round)
                            return;  // a late answer from a past round
                          if (r)
                            fold_round(self, *r);
                          else
                            record_failure(self, id, failure);
                          --s.round_pending;
                          finish_round_if_done(self);
                        }});
  }
  pump(self);
  finish_round_if_done(self);
  return rp;
}

// -- async tasks ---------------------------------------------------------------------------

// Answers every member of a complete group: the member finishing last (simulated time,
// then seq) carries the aggregate, the others are "held".
void flush_if_complete(edge_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = st.groups.find(id);
  if (it == st.groups.end()) return;
  auto& g0 = it->second;
  if (g0.expected == 0 || g0.members.size() + g0.failed < g0.expected) return;
  auto g = std::move(g0);
  st.groups.erase(it);
  if (g.members.empty()) return;
  size_t last = 0;
  for (size_t i = 1; i < g.members.size(); ++i) {
    const auto& a = g.members[i];
    const auto& b = g.members[last];
    if (a.finish > b.finish || (a.finish == b.finish && a.seq > b.seq)) last = i;
  }
  std::vector<uint64_t> seqs;
  for (auto& m : g.members) seqs.push_back(m.seq);
  for (size_t i = 0; i < g.members.size(); ++i) {
    auto& m = g.members[i];
    async_res res;
    res.seq = m.seq;
    res.client = m.client;
    res.base_version = g.base;
    if (i == last) {
      res.kind = static_cast<uint8_t>(async_res_kind::group);
      res.aggregate = g.acc.serialize();
      res.members = seqs;
    } else {
      res.kind = static_cast<uint8_t>(async_res_kind::held);
    }
    m.promise.deliver(std::move(res));
  }
}

caf::result<async_res> start_task(edge_ptr self, async_ins& ins) {
  auto& st = self->state;
  auto rp = self->make_response_promise<async_res>();
  train_ins task;
  task.round = static_cast<uint32_t>(ins.seq);
  task.client = ins.client;
  task.model_version = ins.base_version;
  task.task_seed = ins.task_seed;
  task.model = ins.model;
  task.settings = ins.settings;
  task.timeout_s = ins.timeout_s;
  const uint64_t seq = ins.seq, base = ins.base_version, group_id = ins.group;
  const uint32_t client_id = ins.client;
  const bool group_params = ins.group_params;
  const double finish = ins.finish;
  auto base_model = ins.model;
  if (group_id != 0) st.groups[group_id].base = base;
  st.queue.push_back(edge_state::job{
      std::move(task), [=](train_res* r, const std::string& failure) mutable {
        auto& s = self->state;
        if (group_id == 0) {  // forward
          if (!r) {
            rp.deliver(make_error(errc::training_failed,
                                  "client " + std::to_string(client_id) + ": " + failure));
            return;
          }
          async_res res;
          res.seq = seq;
          res.client = client_id;
          res.base_version = base;
          res.kind = static_cast<uint8_t>(async_res_kind::update);
          res.num_samples = r->num_samples;
          res.loss = r->loss;
          res.params = std::move(r->params);
          rp.deliver(std::move(res));
          return;
        }
        auto& g = s.groups[group_id];
        bool folded = false;
        std::string reason = failure;
        if (r) {
          const size_t n = r->params.size();
          if (g.acc.dim() != n) g.acc = weighted_accumulator{n};
          const double samples = r->num_samples;
          folded = group_params ? g.acc.add(r->params.data(), samples, r->loss)
                                : g.acc.add_difference(r->params.data(), base_model.data(), samples,
                                                       r->loss);
          if (!folded) reason = "rejected update: values out of range";
        }
        if (folded) {
          g.members.push_back(edge_state::group::member{seq, client_id, finish, rp});
        } else {
          ++g.failed;
          rp.deliver(make_error(errc::training_failed,
                                "client " + std::to_string(client_id) + ": " + reason));
        }
        flush_if_complete(self, group_id);
      }});
  pump(self);
  return rp;
}

}  // namespace

std::string check_update(const train_res& res, const train_ins& ins, uint32_t expected_samples) {
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
  self->state.live.set_capacity(cfg.capacity);
  self->state.cfg = std::move(cfg);
  // A client that dies fails its task (the pending request errors out) and is forgotten;
  // the edge lives on. An exit from anyone else (the host shutting down) ends the edge.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.live.forget(msg.source)) self->quit(msg.reason);
  });
  return {
      [=](edge_ins& ins) -> caf::result<edge_res> { return start_round(self, ins); },
      [=](async_ins& ins) -> caf::result<async_res> { return start_task(self, ins); },
      [=](group_close& msg) {
        self->state.groups[msg.group].expected = msg.size;
        flush_if_complete(self, msg.group);
      },
  };
}

}  // namespace fedactor
