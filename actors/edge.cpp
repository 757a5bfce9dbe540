// The edge actor: messages in, runtime/protocol's edge classes do the work.

#include "actors/edge.hpp"

#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/edge_children.hpp"
#include "actors/live_clients.hpp"
#include "actors/request_timeout.hpp"
#include "messages/errors.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/protocol/attack.hpp"
#include "runtime/protocol/edge_round.hpp"
#include "runtime/protocol/host_aggregation.hpp"
#include "runtime/protocol/host_batch_check.hpp"
#include "runtime/protocol/preaggregation.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/protocol/subtree_fold.hpp"
#include "runtime/protocol/task_slots.hpp"
#include "runtime/protocol/update_check.hpp"

namespace fedactor {

namespace {

// One client task waiting for a slot; `done` gets the checked result or the failure, the
// size in bytes of the update the client sent (0 when it sent none) and, when the edge refused
// the client's result, the refusal's reason.
struct job {
  train_ins ins;
  std::function<void(train_res*, failure_code, const std::string& reason, uint64_t bytes,
                     std::optional<result_refusal> refused)>
      done;
};

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

struct edge_state {
  edge_config cfg;
  // Async models received from a server in another process, by version (cfg.model_window).
  model_cache models;
  live_clients live;  // client actors trained at this edge
  task_slots<job> slots;
  // The sync round in progress.
  std::optional<edge_round> round;
  caf::typed_response_promise<edge_res> round_promise;
  // Client results of the sync round in progress refused by reason (sent with edge_res).
  result_refusal_counts round_refused{};
  // Aggregation trees: the round's task (its clients aside), the batches sent to child edges
  // and not answered yet, and the fold of their answers (set while the round has children).
  struct child_part {
    uint32_t child;
    caf::actor_addr edge;
    std::vector<uint32_t> clients;
    bool host = false;  // a client host's batch (host aggregation), not a child edge's
  };
  std::optional<edge_ins> round_ins;
  std::vector<child_part> parts;
  std::optional<subtree_fold> tree;
  std::vector<caf::actor_addr> watched;  // child edges monitored
  std::string aggregation_off;           // why host aggregation is off (logged once per reason)
  // Async pre-aggregation: the groups, and the promise of each member waiting for its answer.
  preaggregation groups;
  std::unordered_map<uint64_t, caf::typed_response_promise<async_res>> members;
  // Bytes of the updates folded into each open group (compressed or not), sent with its
  // aggregate.
  std::unordered_map<uint64_t, uint64_t> group_bytes;

  static inline const char* name = "fedactor.edge";
};

using edge_ptr = edge_actor::stateful_pointer<edge_state>;

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

void push_round_client(edge_ptr self, uint32_t id);
void send_part(edge_ptr self, const edge_children::route& child, std::vector<uint32_t> ids);
void send_batch(edge_ptr self, const batch_actor& host, std::vector<uint32_t> ids);

// Whether this round's clients on client hosts go to them in batches (host aggregation); the
// reason it does not is logged once (until it changes).
bool by_host(edge_ptr self, const edge_ins& ins) {
  auto& st = self->state;
  if (!st.cfg.batches) return false;
  auto off = host_aggregation_off(st.cfg.host_aggregation, ins.robust, ins.clip, st.cfg.attack);
  if (!off) return true;
  if (*off != st.aggregation_off && st.cfg.log)
    st.cfg.log("host aggregation off: " + *off + "; client hosts send one update per client");
  st.aggregation_off = *off;
  return false;
}

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

// A client host's answer to its batch as the report a parent reads: the figures of the edge
// that is asked (live clients) left out, the update traffic being the answer's own bytes.
edge_report host_report(edge_res& res, const failure_counts& failed, size_t clients) {
  edge_report rep;
  rep.round = res.round;
  rep.update_bytes = res.aggregate.size() + res.aux_aggregate.size() + res.reports.size();
  rep.aggregate = std::move(res.aggregate);
  rep.aux_aggregate = std::move(res.aux_aggregate);
  rep.failed = failed;
  rep.details = std::move(res.failures);
  rep.norm = norm_bound_counts{res.norm_within, res.norm_clipped, res.norm_rejected};
  rep.unclipped = res.unclipped;
  uint64_t failures = 0;
  for (auto n : failed.by_code) failures += n;
  rep.updates_received = static_cast<uint32_t>(clients - std::min<uint64_t>(clients, failures));
  rep.reports = std::move(res.reports);
  return rep;
}

// Sends a client host its clients `ids` of the round in progress as one batch (host
// aggregation); its answer is checked, then folded as a child edge's.
void send_batch(edge_ptr self, const batch_actor& host, std::vector<uint32_t> ids) {
  auto& st = self->state;
  edge_ins sub = *st.round_ins;
  sub.clients = ids;
  const uint32_t round = sub.round;
  const auto dest = host.address();
  // Beyond the link's own bound (actors/edge_node.cpp), which answers first.
  const auto timeout = seconds(sub.client_timeout_s * static_cast<double>(ids.size()) + 60);
  st.parts.push_back(edge_state::child_part{0, dest, std::move(ids), true});
  auto find_part = [=](edge_state& s) {
    return std::find_if(s.parts.begin(), s.parts.end(),
                        [&](const auto& p) { return p.edge == dest && p.host; });
  };
  self->request(host, timeout, std::move(sub))
      .then(
          [=](edge_res& res) {
            auto& s = self->state;
            if (!s.round || s.round->round() != round || !s.tree) return;
            auto it = find_part(s);
            if (it == s.parts.end()) return;
            const auto& clients = it->clients;
            std::optional<std::string> wrong;
            auto failed = failure_counts::from_wire(res.failed_by);
            if (!failed) {
              wrong = "failure counts of " + std::to_string(res.failed_by.size()) + " codes";
              s.tree->refuse("client host: " + *wrong, clients.size());
            } else {
              auto rep = host_report(res, *failed, clients.size());
              const auto& cfg = s.cfg;
              wrong = host_batch_problem(
                  rep, host_batch_expectation{
                           s.round->model()->size(), s.round_ins->aux.size(), &clients,
                           [&cfg](uint32_t id) { return cfg.data->num_samples(id); }});
              if (wrong)
                s.tree->refuse("client host: " + *wrong, clients.size());
              else
                wrong = s.tree->fold_child("client host", clients, rep, res.refused_results);
            }
            if (wrong && s.cfg.on_batch_refusal) s.cfg.on_batch_refusal(dest, *wrong);
            s.parts.erase(it);
            finish_round_if_done(self);
          },
          [=](caf::error& err) {
            auto& s = self->state;
            if (!s.round || s.round->round() != round) return;
            auto it = find_part(s);
            if (it == s.parts.end()) return;
            // The batch's clients fail as their tasks would one by one (host lost, timeout).
            auto ids = std::move(it->clients);
            s.parts.erase(it);
            s.round->expect_more(ids.size());
            const auto code = failure_code_of(err);
            const auto reason = describe(err);
            for (auto id : ids) s.round->fail(id, code, reason);
            finish_round_if_done(self);
          });
}

// -- async tasks ---------------------------------------------------------------------------

// Answers every member of a complete group: the carrier with the aggregate, the others held.
void flush_if_complete(edge_ptr self, uint64_t group) {
  auto& st = self->state;
  auto g = st.groups.take_if_complete(group);
  if (!g) return;
  uint64_t bytes = 0;
  if (auto b = st.group_bytes.find(group); b != st.group_bytes.end()) {
    bytes = b->second;
    st.group_bytes.erase(b);
  }
  std::vector<uint64_t> seqs;
  for (auto& m : g->members) seqs.push_back(m.seq);
  for (size_t i = 0; i < g->members.size(); ++i) {
    const auto& m = g->members[i];
    auto p = st.members.find(m.seq);
    if (p == st.members.end()) continue;
    async_res res;
    res.seq = m.seq;
    res.client = m.client;
    if (i == g->carrier)
      res.outcome = async_group{std::move(g->aggregate), seqs, bytes};
    else
      res.outcome = async_held{};
    p->second.deliver(std::move(res));
    st.members.erase(p);
  }
}

// An async task's model: as it came when it carries no digest (a server in this process), else
// the carried model checked against its digest and cached, or the cached model its reference
// names; an error when none of these holds (model_missing: the server sends the model again).
caf::error resolve_model(edge_ptr self, async_ins& ins) {
  auto& st = self->state;
  const std::string what = "edge " + std::to_string(st.cfg.id) + ": task " +
                           std::to_string(ins.seq) + " of model version " +
                           std::to_string(ins.base_version);
  if (ins.model_digest.empty()) {
    if (ins.model_by_reference)
      return make_error(errc::bad_request, what + ": a reference without a digest");
    return caf::none;
  }
  if (ins.model_digest.size() != 64)
    return make_error(errc::bad_request, what + ": a model digest of " +
                                             std::to_string(ins.model_digest.size()) +
                                             " characters, expected 64");
  switch (
      st.models.resolve(ins.base_version, ins.model, ins.model_digest, ins.model_by_reference)) {
    case model_resolution::resolved:
      return caf::none;
    case model_resolution::digest_mismatch:
      return make_error(errc::bad_request, what + ": the model does not match its digest");
    case model_resolution::refers_and_carries:
      return make_error(errc::bad_request, what + ": both refers to and carries a model");
    case model_resolution::missing:
      break;
  }
  return make_error(errc::model_missing, what + ": no model held with digest " + ins.model_digest);
}

caf::result<async_res> start_task(edge_ptr self, async_ins& ins) {
  auto& st = self->state;
  if (auto refused = outside_population(st.cfg, ins.client)) return *refused;
  if (auto err = resolve_model(self, ins)) return err;
  if (auto bad = compression_settings_problem(ins.settings.compression))
    return make_error(errc::bad_request,
                      "edge " + std::to_string(st.cfg.id) + ": compression refused: " + *bad);
  auto rp = self->make_response_promise<async_res>();
  train_ins task;
  task.round = static_cast<uint32_t>(ins.seq);
  task.client = ins.client;
  task.model_version = ins.base_version;
  task.task_seed = ins.task_seed;
  task.model = ins.model;
  task.settings = ins.settings;
  task.timeout_s = ins.timeout_s;
  const uint64_t seq = ins.seq, group = ins.group;
  const uint32_t client = ins.client;
  const bool group_params = ins.group_params;
  const double finish = ins.finish;
  auto base_model = ins.model;
  st.slots.push(
      job{std::move(task), [=](train_res* r, failure_code code, const std::string& failure,
                               uint64_t bytes, std::optional<result_refusal> refused) mutable {
            auto& s = self->state;
            // A result this edge refused is answered with its reason, for the server to count.
            auto answer_refused = [&] {
              async_res res;
              res.seq = seq;
              res.client = client;
              res.outcome = async_refused{static_cast<uint8_t>(*refused),
                                          "client " + std::to_string(client) + ": " + failure};
              rp.deliver(std::move(res));
            };
            if (group == 0) {  // forward
              if (!r && refused) {
                answer_refused();
                return;
              }
              if (!r) {
                rp.deliver(make_failure(code, "client " + std::to_string(client) + ": " + failure));
                return;
              }
              async_res res;
              res.seq = seq;
              res.client = client;
              // A compressed update goes on as it came (checked here, decoded again by the server).
              if (r->update.empty())
                res.outcome = async_update{r->num_samples, r->loss, std::move(r->params), {}};
              else
                res.outcome = async_update{r->num_samples, r->loss, {}, std::move(r->update)};
              rp.deliver(std::move(res));
              return;
            }
            std::string reason = failure;
            failure_code why = code;
            bool folded = false;
            if (r) {
              folded = s.groups.fold(group, group_member{seq, client, finish}, r->params.data(),
                                     base_model.data(), r->params.size(), r->num_samples, r->loss,
                                     group_params);
              if (folded) s.group_bytes[group] += bytes;
              if (!folded) {
                reason = "rejected update: values out of range";
                why = failure_code::invalid_update;
              }
            } else {
              s.groups.fail(group);
            }
            if (folded) {
              s.members.emplace(seq, rp);
            } else if (!r && refused) {
              answer_refused();
            } else {
              rp.deliver(make_failure(why, "client " + std::to_string(client) + ": " + reason));
            }
            flush_if_complete(self, group);
          }});
  pump(self);
  return rp;
}

edge_actor::behavior_type edge(edge_ptr self, edge_config cfg) {
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
      [=](group_close& msg) {
        self->state.groups.close(msg.group, msg.size);
        flush_if_complete(self, msg.group);
      },
  };
}

}  // namespace

edge_actor spawn_edge(caf::actor_system& sys, edge_config cfg) {
  return sys.spawn(edge, std::move(cfg));
}

}  // namespace fedactor
