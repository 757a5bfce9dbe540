// The edge actor: messages in, runtime/protocol's edge classes do the work. Here: the behaviour
// table, the slots' pump and the sync round (its clients trained here, sent to child edges, or
// to client hosts in batches: actors/edge_host_batch.cpp); async tasks:
// actors/edge_async_tasks.cpp.

#include "actors/edge.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/edge_async_tasks.hpp"
#include "actors/edge_children.hpp"
#include "actors/edge_host_batch.hpp"
#include "actors/edge_state.hpp"
#include "actors/live_clients.hpp"
#include "actors/request_timeout.hpp"
#include "messages/errors.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/protocol/attack.hpp"
#include "runtime/protocol/edge_round.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/protocol/subtree_fold.hpp"
#include "runtime/protocol/task_slots.hpp"
#include "runtime/protocol/update_check.hpp"

namespace fedactor {

namespace edge_detail {

namespace {

// The bytes an answer's update took: its encoded payload, or its model as floats.
uint64_t update_bytes_of(const train_res& r) {
  return r.update.empty() ? uint64_t{4} * r.params.size() : r.update.size();
}

// A compressed answer's update decoded against the task's model into r.params (the payload
// stays in r.update); empty when usable, else why it is refused.
std::optional<std::string> unpack(train_res& r, const compression_settings& cs,
                                  const param_blob& base) {
  if (cs.kind == compression_kind::none) {
    if (!r.update.empty()) return std::string{"a compressed update in a run without compression"};
    return std::nullopt;
  }
  if (r.update.empty())
    return "an uncompressed update, expected " + std::string{to_string(cs.kind)};
  std::vector<float> params;
  if (auto bad = decompress_update(cs, r.update, base.data(), base.size(), params)) return bad;
  r.params = param_blob{std::move(params)};
  return std::nullopt;
}

}  // namespace

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

// Starts queued jobs while slots are free.
void pump(edge_ptr self) {
  auto& st = self->state;
  while (auto j = st.slots.next()) {
    const uint32_t id = j->ins.client;
    const update_expectation want{j->ins.round, id, j->ins.model.size(),
                                  st.cfg.data->num_samples(id)};
    auto done = std::move(j->done);
    client_actor target;
    if (st.cfg.provider) target = st.cfg.provider(id);
    const bool local = !target;
    if (local)
      target = acquire_client(self, st.live, id, st.cfg.data, st.cfg.trainers, st.cfg.state);
    const auto timeout = seconds(j->ins.timeout_s);
    // A simulated attacker's answer is altered against the model it was sent.
    param_blob attacked_base;
    if (is_malicious(st.cfg.attack, id)) attacked_base = j->ins.model;
    const auto compression = j->ins.settings.compression;
    const param_blob base = j->ins.model;
    auto request = self->request(target, timeout, std::move(j->ins));
    const auto rid = request.id();
    request.then(
        [=](train_res& r) {
          forget_request_timeout(self, rid);
          self->state.slots.done();
          if (local) self->state.live.release(id);
          const uint64_t bytes = update_bytes_of(r);
          std::optional<update_refusal> wrong;
          // A payload that does not decode to the model is refused as a wrong shape.
          if (auto bad = unpack(r, compression, base))
            wrong = update_refusal{result_refusal::wrong_shape, *bad};
          if (!wrong) {
            if (!attacked_base.empty() && r.params.size() == attacked_base.size())
              r.params = param_blob{attacked_params(self->state.cfg.attack, r.params.data(),
                                                    attacked_base.data(), r.params.size())};
            wrong = refuse_update(update_claim{r.round, r.client, r.params.data(), r.params.size(),
                                               r.num_samples, r.loss},
                                  want);
          }
          if (wrong) {
            // Counted by reason: in this process, and with the sync round's answer.
            count_result_refusal(wrong->reason);
            if (self->state.round) ++self->state.round_refused[static_cast<size_t>(wrong->reason)];
          }
          if (wrong && !local && self->state.cfg.on_refusal)
            self->state.cfg.on_refusal(target.address(), id, wrong->what);
          if (wrong)
            done(nullptr, failure_code::invalid_update, "rejected update: " + wrong->what, bytes,
                 wrong->reason);
          else
            done(&r, failure_code::client_error, {}, bytes, std::nullopt);
          pump(self);
        },
        [=](caf::error& err) {
          forget_request_timeout(self, rid);
          self->state.slots.done();
          if (local) self->state.live.release(id);
          done(nullptr, failure_code_of(err), describe(err), 0, std::nullopt);
          pump(self);
        });
  }
}

// -- sync rounds ---------------------------------------------------------------------------

void finish_round_if_done(edge_ptr self) {
  auto& st = self->state;
  if (!st.round || !st.round->complete() || !st.parts.empty()) return;
  auto out = st.round->finish();
  if (st.tree) {
    // This edge's own part folded with its children's answers (already checked and folded).
    edge_report own;
    own.round = st.round->round();
    own.aggregate = std::move(out.aggregate);
    own.aux_aggregate = std::move(out.aux_aggregate);
    own.failed = out.failed;
    own.details = std::move(out.details);
    own.live_clients = static_cast<uint32_t>(st.live.size());
    own.peak_live_clients = static_cast<uint32_t>(st.live.peak());
    own.evictions = st.live.evictions();
    own.norm = out.norm;
    own.unclipped = out.unclipped;
    own.update_bytes = out.update_bytes;
    own.updates_received = out.updates_received;
    own.reports = std::move(out.reports);
    st.tree->fold_own(own, st.round_refused);
    auto all = st.tree->total();
    edge_res res;
    res.round = all.round;
    res.edge = st.cfg.id;
    res.aggregate = std::move(all.aggregate);
    res.aux_aggregate = std::move(all.aux_aggregate);
    res.failed_by = all.failed.to_wire();
    res.failures = std::move(all.details);
    res.live_clients = all.live_clients;
    res.peak_live_clients = all.peak_live_clients;
    res.evictions = all.evictions;
    res.norm_within = all.norm.within;
    res.norm_clipped = all.norm.clipped;
    res.norm_rejected = all.norm.rejected;
    res.unclipped = all.unclipped;
    res.refused_results = result_refusals_to_wire(st.tree->refused());
    res.update_bytes = all.update_bytes;
    res.updates_received = all.updates_received;
    res.reports = std::move(all.reports);
    st.round_refused = {};
    st.tree.reset();
    st.round_ins.reset();
    st.round.reset();
    st.round_promise.deliver(std::move(res));
    return;
  }
  edge_res res;
  res.round = st.round->round();
  res.edge = st.cfg.id;
  res.aggregate = std::move(out.aggregate);
  res.aux_aggregate = std::move(out.aux_aggregate);
  res.failed_by = out.failed.to_wire();
  res.failures = std::move(out.details);
  res.live_clients = static_cast<uint32_t>(st.live.size());
  res.peak_live_clients = static_cast<uint32_t>(st.live.peak());
  res.evictions = st.live.evictions();
  res.norm_within = out.norm.within;
  res.norm_clipped = out.norm.clipped;
  res.norm_rejected = out.norm.rejected;
  res.unclipped = out.unclipped;
  res.refused_results = result_refusals_to_wire(st.round_refused);
  st.round_refused = {};
  st.round_ins.reset();
  res.update_bytes = out.update_bytes;
  res.updates_received = out.updates_received;
  res.reports = std::move(out.reports);
  st.round.reset();
  st.round_promise.deliver(std::move(res));
}

// The refusal of a task naming a client outside the population, if it does.
std::optional<caf::error> outside_population(const edge_config& cfg, uint64_t id) {
  if (cfg.population == 0 || id < cfg.population) return std::nullopt;
  return make_error(errc::bad_request, "edge " + std::to_string(cfg.id) + ": client " +
                                           std::to_string(id) + " outside the population 0-" +
                                           std::to_string(cfg.population - 1));
}

namespace {

// Builds the data of clients first..last in client actors of this edge's live set before a
// round needs them (a client host preparing its batch edge while the federation assembles).
// Refused when the range does not fit the live set, names a client outside the population or
// one that trains elsewhere (provider), or a round is in progress. Answers the number of
// clients prepared; one whose data cannot be built fails its first task as it would have.
caf::result<uint32_t> prepare_clients(edge_ptr self, uint32_t first, uint32_t last) {
  auto& st = self->state;
  const std::string what = "edge " + std::to_string(st.cfg.id) + ": preparing clients " +
                           std::to_string(first) + "-" + std::to_string(last);
  if (last < first) return make_error(errc::bad_request, what + ": an empty range");
  const uint64_t n = uint64_t{last} - first + 1;
  if (n > st.live.capacity())
    return make_error(errc::bad_request, what + ": more than the " +
                                             std::to_string(st.live.capacity()) +
                                             " live clients this edge keeps");
  if (auto refused = outside_population(st.cfg, last)) return *refused;
  if (st.cfg.provider)
    for (uint64_t i = first; i <= last; ++i)
      if (st.cfg.provider(static_cast<uint32_t>(i)))
        return make_error(errc::bad_request,
                          what + ": client " + std::to_string(i) + " trains on a client host");
  if (st.round)
    return make_error(errc::bad_request,
                      what + ": round " + std::to_string(st.round->round()) + " is in progress");
  struct tally {
    uint64_t left;
    uint32_t prepared;
  };
  auto t = std::make_shared<tally>(tally{n, 0});
  auto rp = self->make_response_promise<uint32_t>();
  for (uint64_t i = first; i <= last; ++i) {
    const auto id = static_cast<uint32_t>(i);
    auto done = [=](bool ok) mutable {
      self->state.live.release(id);
      if (ok) ++t->prepared;
      if (--t->left == 0) rp.deliver(t->prepared);
    };
    // The live set holds only client actors this edge spawned (acquire_client).
    auto c = caf::actor_cast<local_client_actor>(
        acquire_client(self, st.live, id, st.cfg.data, st.cfg.trainers, st.cfg.state));
    self->request(c, caf::infinite, prepare_atom::value)
        .then([=](uint32_t) mutable { done(true); }, [=](caf::error&) mutable { done(false); });
  }
  return rp;
}

void push_round_client(edge_ptr self, uint32_t id);
void send_part(edge_ptr self, const edge_children::route& child, std::vector<uint32_t> ids);

caf::result<edge_res> start_round(edge_ptr self, edge_ins& ins) {
  auto& st = self->state;
  if (st.round)
    return make_error(errc::bad_request, "edge " + std::to_string(st.cfg.id) +
                                             " is still training round " +
                                             std::to_string(st.round->round()));
  for (auto id : ins.clients)
    if (auto refused = outside_population(st.cfg, id)) return *refused;
  if (auto bad = compression_settings_problem(ins.settings.compression))
    return make_error(errc::bad_request,
                      "edge " + std::to_string(st.cfg.id) + ": compression refused: " + *bad);
  if (const char* bad = robust_settings_problem(ins.robust); *bad)
    return make_error(errc::bad_request,
                      "edge " + std::to_string(st.cfg.id) + ": robust settings refused: " + bad);
  if (!(ins.clip >= 0) || std::isinf(ins.clip))
    return make_error(errc::bad_request, "edge " + std::to_string(st.cfg.id) + ": clip bound " +
                                             std::to_string(ins.clip) +
                                             " is not a finite number >= 0");
  if (ins.clip > 0 && ins.robust.active())
    return make_error(errc::bad_request, "edge " + std::to_string(st.cfg.id) +
                                             ": a clip bound with robust settings refused");
  // Aggregation trees: clients no client host of this edge serves and a child's subtree hosts
  // go to that child, one batch per child; the others train here.
  std::vector<uint32_t> own;
  std::vector<std::pair<edge_children::route, std::vector<uint32_t>>> to_children;
  std::vector<std::pair<batch_actor, std::vector<uint32_t>>> to_hosts;
  const bool batched = by_host(self, ins);
  for (auto id : ins.clients) {
    if (batched)
      if (auto host = st.cfg.batches(id)) {
        auto it = std::find_if(to_hosts.begin(), to_hosts.end(),
                               [&](const auto& p) { return p.first == host; });
        if (it == to_hosts.end())
          to_hosts.emplace_back(host, std::vector<uint32_t>{id});
        else
          it->second.push_back(id);
        continue;
      }
    std::optional<edge_children::route> child;
    if (st.cfg.children && !(st.cfg.provider && st.cfg.provider(id)))
      child = st.cfg.children->find(id);
    if (!child) {
      own.push_back(id);
      continue;
    }
    auto it = std::find_if(to_children.begin(), to_children.end(),
                           [&](const auto& p) { return p.first.id == child->id; });
    if (it == to_children.end())
      to_children.emplace_back(*child, std::vector<uint32_t>{id});
    else
      it->second.push_back(id);
  }
  st.round.emplace(ins.round, ins.model.shared(), own.size(), ins.aux.size(), ins.robust, ins.clip);
  st.round_refused = {};
  st.round_promise = self->make_response_promise<edge_res>();
  auto rp = st.round_promise;
  st.parts.clear();
  st.tree.reset();
  if (!to_children.empty() || !to_hosts.empty())
    st.tree.emplace(ins.round, ins.model.size(), ins.aux.size(), ins.clip > 0);
  ins.clients.clear();
  st.round_ins = std::move(ins);
  for (auto& [child, ids] : to_children) send_part(self, child, std::move(ids));
  for (auto& [host, ids] : to_hosts) send_batch(self, host, std::move(ids));
  for (auto id : own) push_round_client(self, id);
  pump(self);
  finish_round_if_done(self);
  return rp;
}

// Queues client `id` of the round in progress for training here (or on a client host).
void push_round_client(edge_ptr self, uint32_t id) {
  auto& st = self->state;
  const auto& ins = *st.round_ins;
  const uint32_t round = ins.round;
  {
    train_ins task;
    task.round = round;
    task.client = id;
    task.model_version = ins.model_version;
    task.task_seed = stream_key(ins.seed, rng_tag::shuffle, round, id);
    task.model = ins.model;  // shared buffer, no copy
    task.settings = ins.settings;
    task.timeout_s = ins.client_timeout_s;
    task.aux = ins.aux;  // shared buffer, no copy
    st.slots.push(
        job{std::move(task), [=](train_res* r, failure_code code, const std::string& reason,
                                 uint64_t bytes, std::optional<result_refusal>) {
              auto& s = self->state;
              if (!s.round || s.round->round() != round) return;  // a past round
              s.round->count_update(bytes);
              if (r)
                s.round->fold(id, r->params.data(), r->num_samples, r->loss, r->aux.data(),
                              r->aux.size());
              else
                s.round->fail(id, code, reason);
              finish_round_if_done(self);
            }});
  }
}

// A child's batch is over without a usable answer (the child was lost, timed out or failed):
// its clients train here instead, in the same round.
void part_lost(edge_ptr self, uint32_t round, const caf::actor_addr& child) {
  auto& st = self->state;
  if (!st.round || st.round->round() != round) return;
  auto it = std::find_if(st.parts.begin(), st.parts.end(),
                         [&](const auto& p) { return p.edge == child && !p.host; });
  if (it == st.parts.end()) return;
  auto ids = std::move(it->clients);
  st.parts.erase(it);
  st.round->expect_more(ids.size());
  for (auto id : ids) push_round_client(self, id);
  pump(self);
  finish_round_if_done(self);
}

void send_part(edge_ptr self, const edge_children::route& child, std::vector<uint32_t> ids) {
  auto& st = self->state;
  edge_ins sub = *st.round_ins;
  sub.clients = ids;
  const uint32_t round = sub.round, child_id = child.id;
  const auto dest = child.edge.address();
  // At worst the child trains one client at a time, each within the task timeout.
  const auto timeout = seconds(sub.client_timeout_s * static_cast<double>(ids.size()) + 30);
  st.parts.push_back(edge_state::child_part{child_id, dest, std::move(ids)});
  if (std::find(st.watched.begin(), st.watched.end(), dest) == st.watched.end()) {
    st.watched.push_back(dest);
    self->monitor(child.edge);
  }
  self->request(child.edge, timeout, std::move(sub))
      .then(
          [=](edge_res& res) {
            auto& s = self->state;
            if (!s.round || s.round->round() != round || !s.tree) return;
            auto it = std::find_if(s.parts.begin(), s.parts.end(),
                                   [&](const auto& p) { return p.edge == dest && !p.host; });
            if (it == s.parts.end()) return;
            const std::string who = "child edge " + std::to_string(child_id);
            auto failed = failure_counts::from_wire(res.failed_by);
            std::optional<std::string> wrong;
            if (res.edge != child_id) {
              wrong = who + " answered as edge " + std::to_string(res.edge);
            } else if (!failed) {
              wrong =
                  who + ": failure counts of " + std::to_string(res.failed_by.size()) + " codes";
            } else {
              edge_report rep;
              rep.round = res.round;
              rep.aggregate = std::move(res.aggregate);
              rep.aux_aggregate = std::move(res.aux_aggregate);
              rep.failed = *failed;
              rep.details = std::move(res.failures);
              rep.live_clients = res.live_clients;
              rep.peak_live_clients = res.peak_live_clients;
              rep.evictions = res.evictions;
              rep.norm = norm_bound_counts{res.norm_within, res.norm_clipped, res.norm_rejected};
              rep.unclipped = res.unclipped;
              rep.update_bytes = res.update_bytes;
              rep.updates_received = res.updates_received;
              rep.reports = std::move(res.reports);
              s.tree->fold_child(who, it->clients, rep, res.refused_results);
            }
            if (wrong) s.tree->refuse(*wrong, it->clients.size());
            s.parts.erase(it);
            finish_round_if_done(self);
          },
          [=](caf::error&) { part_lost(self, round, dest); });
}

local_edge_actor::behavior_type edge(edge_ptr self, edge_config cfg) {
  if (cfg.capacity == 0) cfg.capacity = 1;
  self->state.live.set_capacity(cfg.capacity);
  self->state.slots.set_capacity(cfg.capacity);
  self->state.models = model_cache{cfg.model_window};
  self->state.cfg = std::move(cfg);
  // A client that dies fails its task (the pending request errors out) and is forgotten;
  // the edge lives on. An exit from anyone else (the host shutting down) ends the edge.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (!self->state.live.forget(msg.source)) self->quit(msg.reason);
  });
  // A child edge lost (aggregation trees): its batch of the round in progress trains here.
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& w = self->state.watched;
    w.erase(std::remove(w.begin(), w.end(), msg.source), w.end());
    if (self->state.round) part_lost(self, self->state.round->round(), msg.source);
  });
  return {
      [=](edge_ins& ins) -> caf::result<edge_res> { return start_round(self, ins); },
      [=](async_ins& ins) -> caf::result<async_res> { return start_task(self, ins); },
      [=](prepare_atom, uint32_t first, uint32_t last) -> caf::result<uint32_t> {
        return prepare_clients(self, first, last);
      },
      [=](group_close& msg) {
        self->state.groups.close(msg.group, msg.size);
        flush_if_complete(self, msg.group);
      },
  };
}

}  // namespace

}  // namespace edge_detail

local_edge_actor spawn_edge(caf::actor_system& sys, edge_config cfg) {
  return sys.spawn(edge_detail::edge, std::move(cfg));
}

}  // namespace fedactor
