#include "actors/server.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "messages/errors.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/timing/device_profile.hpp"

namespace fedactor {

namespace {

using server_ptr = server_actor::stateful_pointer<server_state>;

constexpr size_t max_reported_failures = 8;

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

double elapsed_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

bool simulated(server_ptr self) {
  return self->state.cfg.sc.clock == clock_kind::simulated;
}

// Simulated seconds client `id` needs for one task with the current model.
double duration_of(server_ptr self, uint32_t id) {
  const auto& sc = self->state.cfg.sc;
  auto profile = make_device_profile(sc.devices, sc.seed, id);
  return task_duration(sc.devices, profile, self->state.cfg.registry->num_samples(id),
                       sc.training.epochs, self->state.model.size() * sizeof(float));
}

train_settings settings_of(const scenario& sc) {
  return train_settings{sc.training.epochs, sc.training.batch_size, sc.training.lr,
                        sc.training.momentum};
}

bool rerouting(server_ptr self) {
  return self->state.cfg.sc.faults.on_edge_loss == edge_loss_policy::reroute;
}

void edge_lost(server_ptr self, uint32_t e, const caf::error& reason);

// A request to an edge that terminated (in this process, or one CAF reports as gone) fails
// with request_receiver_down, possibly before the down message: the same event.
bool receiver_down(const caf::error& err) {
  return err.category() == caf::atom("system") &&
         err.code() == static_cast<uint8_t>(caf::sec::request_receiver_down);
}

void note_event(server_ptr self, const std::string& what) {
  if (self->state.cfg.on_event) self->state.cfg.on_event(what);
}

// The edge that trains client `id`: its own while alive; else, when rerouting, a survivor
// picked by id (deterministic, spreads the lost edge's clients evenly); nullopt when the
// client cannot be reached (drop policy, or no edge left).
std::optional<uint32_t> edge_for(server_ptr self, uint32_t id) {
  auto& st = self->state;
  const uint32_t home = st.route->edge_of(id);
  if (st.edge_alive[home]) return home;
  if (!rerouting(self) || st.alive_edges.empty()) return std::nullopt;
  return st.alive_edges[id % st.alive_edges.size()];
}

void update_alive_list(server_ptr self) {
  auto& st = self->state;
  st.alive_edges.clear();
  for (uint32_t e = 0; e < st.edge_alive.size(); ++e)
    if (st.edge_alive[e]) st.alive_edges.push_back(e);
}

void finish_run(server_ptr self) {
  auto& st = self->state;
  st.running = false;
  st.report.rounds = st.round;
  st.report.model_version = st.version;
  st.report.model = st.model;
  st.report.sim_time_s = st.sim_now;
  if (st.buffer) {
    const auto& stats = st.buffer->stats();
    st.report.total_updates = stats.total_updates;
    st.report.stale_updates = stats.stale_updates;
    st.report.rejected_updates = stats.rejected_updates;
  }
  st.promise.deliver(st.report);
}

// -- sync ----------------------------------------------------------------------------------

void start_round(server_ptr self);

void finish_round(server_ptr self) {
  auto& st = self->state;
  auto& rec = st.rec;
  if (!st.acc.empty()) {
    st.model = param_blob{apply_update(st.model.values(), st.acc, st.cfg.sc.protocol.server_lr)};
    ++st.version;
  }
  ++st.round;
  st.sim_now += rec.sim_round_s;
  rec.round = st.round;
  rec.model_version = st.version;
  rec.clients = static_cast<uint32_t>(st.acc.count());
  rec.mean_loss = st.acc.empty() ? 0.0 : st.acc.scalar_mean();
  rec.wall_s = elapsed_since(st.started);
  rec.clients_per_s = rec.wall_s > 0 ? rec.clients / rec.wall_s : 0.0;
  rec.sim_time_s = st.sim_now;
  st.report.clients_trained += rec.clients;
  st.report.failures += rec.failures;
  if (!st.acc.empty()) st.report.final_loss = rec.mean_loss;
  if (st.cfg.on_round) st.cfg.on_round(rec, st.model);
  if (st.round >= st.cfg.sc.protocol.rounds) {
    finish_run(self);
    return;
  }
  start_round(self);
}

void send_batch(server_ptr self, uint64_t id);

// A batch is answered (or failed, or abandoned with its edge): start the edge's next one;
// the round ends when no batch is outstanding.
void batch_done(server_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = st.batches.find(id);
  if (it == st.batches.end()) return;
  const uint32_t e = it->second.edge;
  st.batches.erase(it);
  if (st.edge_batch[e] == id) {
    st.edge_batch[e] = 0;
    if (!st.backlog[e].empty()) {
      auto next = st.backlog[e].front();
      st.backlog[e].pop_front();
      send_batch(self, next);
    }
  }
  if (st.batches.empty()) finish_round(self);
}

void add_batch(server_ptr self, uint32_t e, std::vector<uint32_t> clients) {
  auto& st = self->state;
  const uint64_t id = st.next_batch++;
  st.batches.emplace(id, server_state::batch{e, std::move(clients)});
  if (st.edge_batch[e] == 0)
    send_batch(self, id);
  else
    st.backlog[e].push_back(id);
}

void add_failure_reason(server_ptr self, std::string reason) {
  auto& reasons = self->state.rec.failure_reasons;
  if (reasons.size() < max_reported_failures) reasons.push_back(std::move(reason));
}

// Sends `ids` (ascending) to the edges that serve them now; unreachable ones fail.
void assign_clients(server_ptr self, const std::vector<uint32_t>& ids) {
  auto& st = self->state;
  std::vector<std::vector<uint32_t>> groups(st.cfg.edges.size());
  for (auto id : ids) {
    auto e = edge_for(self, id);
    if (!e) {
      ++st.rec.failures;
      add_failure_reason(self, "client " + std::to_string(id) + ": edge " +
                                   std::to_string(st.route->edge_of(id)) + " lost");
      continue;
    }
    if (*e != st.route->edge_of(id)) ++st.rec.rerouted;
    groups[*e].push_back(id);
  }
  for (uint32_t e = 0; e < groups.size(); ++e)
    if (!groups[e].empty()) add_batch(self, e, std::move(groups[e]));
}

void send_batch(server_ptr self, uint64_t id) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  const auto& b = st.batches.at(id);
  const uint32_t e = b.edge;
  const uint32_t round = st.round + 1;
  const auto count = static_cast<uint32_t>(b.clients.size());
  st.edge_batch[e] = id;
  edge_ins ins;
  ins.round = round;
  ins.model_version = st.version;
  ins.seed = sc.seed;
  ins.model = st.model;
  ins.settings = settings_of(sc);
  ins.client_timeout_s = sc.training.timeout_s;
  ins.clients = b.clients;
  // An edge trains at most edge_capacity clients at a time, each within the client
  // timeout: its answer is due after that many waves, plus slack for messaging.
  const double waves = std::ceil(static_cast<double>(count) / std::max(1u, st.cfg.edge_capacity));
  const auto edge_timeout = seconds(sc.training.timeout_s * std::max(1.0, waves) + 30.0);
  self->request(st.cfg.edges[e], edge_timeout, std::move(ins))
      .then(
          [=](edge_res& res) {
            auto& s = self->state;
            if (s.batches.count(id) == 0) return;  // abandoned: its edge was lost
            auto agg =
                weighted_accumulator::deserialize(res.aggregate.data(), res.aggregate.size());
            if (res.round != round || !agg || !s.acc.merge(*agg)) {
              s.rec.failures += count;
              add_failure_reason(self, "edge " + std::to_string(e) + ": malformed aggregate");
            } else {
              s.rec.failures += res.failed;
              for (auto& f : res.failures) add_failure_reason(self, std::move(f));
            }
            s.rec.live_clients += res.live_clients;
            s.rec.peak_live_clients += res.peak_live_clients;
            s.rec.evictions += res.evictions;
            batch_done(self, id);
          },
          [=](caf::error& err) {
            auto& s = self->state;
            if (s.batches.count(id) == 0) return;
            if (receiver_down(err)) {
              edge_lost(self, e, err);
              return;
            }
            s.rec.failures += count;
            add_failure_reason(self, "edge " + std::to_string(e) + ": " + describe(err));
            batch_done(self, id);
          });
}

// Under the simulated clock: keeps the first k clients to finish (over-selection) that
// finish before the deadline; the others would report too late and are not trained.
// Sets the round's simulated duration.
std::vector<uint32_t> keep_in_time(server_ptr self, std::vector<uint32_t> ids, uint32_t k) {
  auto& st = self->state;
  const double deadline = st.cfg.sc.protocol.round_deadline;
  std::vector<std::pair<double, uint32_t>> by_finish;
  by_finish.reserve(ids.size());
  for (auto id : ids) by_finish.emplace_back(duration_of(self, id), id);
  std::sort(by_finish.begin(), by_finish.end());
  std::vector<uint32_t> kept;
  bool cut_by_deadline = false;
  double longest = 0;
  for (auto& [d, id] : by_finish) {
    if (kept.size() >= k) break;
    if (deadline > 0 && d > deadline) {
      cut_by_deadline = true;
      break;
    }
    kept.push_back(id);
    longest = d;
  }
  st.rec.dropped = static_cast<uint32_t>(ids.size() - kept.size());
  st.rec.sim_round_s = cut_by_deadline ? deadline : longest;
  std::sort(kept.begin(), kept.end());
  return kept;
}

void start_round(server_ptr self) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  st.started = std::chrono::steady_clock::now();
  st.rec = round_record{};
  st.acc = weighted_accumulator{st.model.size()};
  const uint32_t round = st.round + 1;
  const uint32_t k = sc.selection.clients_per_round;
  const auto population = st.cfg.registry->size();
  // k + ceil(k·o), with the same guard against float noise as validate() (100 × 0.07 = 7).
  const double extra = std::ceil(k * sc.selection.over_select * (1.0 - 1e-12));
  const auto wanted =
      static_cast<uint32_t>(std::min<double>(static_cast<double>(population), k + extra));
  auto ids = st.pick->sample(wanted, static_cast<int32_t>(round));
  st.rec.selected = static_cast<uint32_t>(ids.size());
  if (simulated(self)) ids = keep_in_time(self, std::move(ids), k);
  st.batches.clear();
  st.edge_batch.assign(st.cfg.edges.size(), 0);
  st.backlog.assign(st.cfg.edges.size(), {});
  // Group by edge: O(k + edges). Ids arrive ascending, so each group stays ascending.
  assign_clients(self, ids);
  if (st.batches.empty()) finish_round(self);
}

// -- async ---------------------------------------------------------------------------------

void async_fill(server_ptr self);

// Tells an edge that its open group is complete: no more members will join.
void close_group(server_ptr self, uint32_t edge) {
  auto& og = self->state.open_groups[edge];
  if (og.id == 0) return;
  self->send(self->state.cfg.edges[edge], group_close{og.id, og.size});
  og = server_state::open_group{};
}

void close_all_groups(server_ptr self) {
  for (uint32_t e = 0; e < self->state.open_groups.size(); ++e) close_group(self, e);
}

// Groups close when full, when the version moves on, and when the task every release
// waits for sits in an open group (its edge holds it until the group closes). All three
// depend only on the release order, so group membership is reproducible.
void close_stalled_group(server_ptr self) {
  auto& st = self->state;
  if (st.open_groups.empty()) return;
  if (simulated(self)) {
    auto seq = st.releases.blocking_seq();
    if (!seq) return;
    auto it = st.tasks.find(*seq);
    if (it == st.tasks.end() || it->second.group == 0) return;
    if (st.open_groups[it->second.edge].id == it->second.group) close_group(self, it->second.edge);
  } else {
    for (auto& [seq, t] : st.tasks)
      if (t.group == 0 || st.open_groups[t.edge].id != t.group) return;
    close_all_groups(self);
  }
}

void note_failure(server_ptr self, std::string reason) {
  auto& st = self->state;
  ++st.failures_since_step;
  ++st.report.failures;
  if (st.failure_reasons.size() < max_reported_failures)
    st.failure_reasons.push_back(std::move(reason));
}

// Reports the server steps the buffer took; ends the run after `async.aggregations`.
void report_steps(server_ptr self) {
  auto& st = self->state;
  for (auto& step : st.buffer->take_records()) {
    ++st.round;
    st.version = step.version;
    round_record rec;
    rec.async = true;
    rec.round = st.round;
    rec.model_version = step.version;
    rec.clients = step.updates;
    rec.failures = st.failures_since_step;
    rec.edges_lost = st.edges_lost_since_step;
    rec.edges_rejoined = st.edges_rejoined_since_step;
    rec.rerouted = st.rerouted_since_step;
    st.edges_lost_since_step = st.edges_rejoined_since_step = st.rerouted_since_step = 0;
    rec.failure_reasons = std::move(st.failure_reasons);
    rec.mean_loss = step.mean_loss;
    rec.wall_s = elapsed_since(st.started);
    rec.clients_per_s = rec.wall_s > 0 ? rec.clients / rec.wall_s : 0.0;
    rec.sim_time_s = st.sim_now;
    rec.sim_round_s = st.sim_now - st.sim_at_last_step;
    rec.stale_discarded = step.stale_discarded;
    rec.staleness_histogram = step.staleness_histogram;
    rec.mean_decay = step.mean_decay;
    st.failures_since_step = 0;
    st.failure_reasons.clear();
    st.sim_at_last_step = st.sim_now;
    st.started = std::chrono::steady_clock::now();
    close_all_groups(self);
    st.report.clients_trained += step.updates;
    st.report.final_loss = step.mean_loss;
    st.model = param_blob{st.buffer->model()};
    if (st.cfg.on_round) st.cfg.on_round(rec, st.model);
    if (st.round >= st.cfg.sc.async.aggregations) {
      finish_run(self);
      return;
    }
  }
}

// Folds one released task into the buffer (or counts its failure).
void async_process(server_ptr self, uint64_t seq, std::optional<async_res>& res) {
  auto& st = self->state;
  auto it = st.tasks.find(seq);
  if (it == st.tasks.end()) return;
  const uint32_t edge = it->second.edge;
  const uint64_t group = it->second.group;
  const bool same_edge = it->second.incarnation == st.edge_incarnation[edge];
  st.busy_clients.erase(it->second.client);
  st.tasks.erase(it);
  if (!st.running) return;
  if (!res) return;  // failure already noted when it arrived
  switch (static_cast<async_res_kind>(res->kind)) {
    case async_res_kind::update: {
      fedbuff_update u{res->params.data(), res->params.size(), res->num_samples, res->base_version,
                       res->loss};
      if (st.buffer->offer(u) == offer_result::rejected)
        note_failure(self, "client " + std::to_string(res->client) + ": rejected update");
      break;
    }
    case async_res_kind::held:
      // Its update travels in its group's aggregate, unless that edge is already gone.
      if (!same_edge) {
        note_failure(self, "client " + std::to_string(res->client) + ": edge " +
                               std::to_string(edge) + " lost before its group's aggregate");
        break;
      }
      {
        auto& h = st.held[group];
        h.edge = edge;
        h.clients.push_back(res->client);
      }
      break;
    case async_res_kind::group: {
      st.held.erase(group);
      // Members whose held answer has not come yet are done too (their updates are in the
      // aggregate): free their slots now, and never resend them if the edge is lost. (With
      // the simulated clock they were all released before this, the latest-finishing one.)
      if (!simulated(self)) {
        for (uint64_t m : res->members) {
          auto mt = st.tasks.find(m);
          if (mt == st.tasks.end() || mt->second.group != group) continue;
          st.busy_clients.erase(mt->second.client);
          st.tasks.erase(mt);
        }
      }
      auto acc = weighted_accumulator::deserialize(res->aggregate.data(), res->aggregate.size());
      if (!acc) {
        note_failure(self, "client " + std::to_string(res->client) + ": malformed group");
        break;
      }
      if (st.buffer->offer_group(*acc, res->base_version,
                                 static_cast<uint32_t>(res->members.size())) ==
          offer_result::rejected)
        note_failure(self, "client " + std::to_string(res->client) + ": rejected group");
      break;
    }
  }
  report_steps(self);
}

// Releases finished tasks in simulated-finish order (as soon as no task still running
// could finish earlier), then refills the free slots.
// Each release refills its slot at once (at the release's simulated time), so dispatch
// times and base versions follow the release order alone, not real arrival timing.
void async_drain(server_ptr self) {
  auto& st = self->state;
  while (st.running) {
    auto item = st.releases.pop_ready();
    if (!item) break;
    st.sim_now = std::max(st.sim_now, item->finish);
    async_process(self, item->seq, item->payload);
    async_fill(self);
  }
  async_fill(self);
  if (st.running) close_stalled_group(self);
}

// Sends task `seq` (as stored) to its edge; answers to an earlier attempt are ignored.
void send_task(server_ptr self, uint64_t seq) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  auto& t = st.tasks.at(seq);
  const uint32_t edge = t.edge;
  const uint32_t attempt = t.attempt;
  // Tasks queue at the edge behind at most `concurrency` others.
  const double waves =
      std::ceil(static_cast<double>(sc.async.concurrency) / std::max(1u, st.cfg.edge_capacity));
  const auto timeout = seconds(sc.training.timeout_s * std::max(1.0, waves) + 30.0);
  auto current = [self, seq, attempt](bool arrived) {
    auto& s = self->state;
    auto it = s.tasks.find(seq);
    if (!s.running || it == s.tasks.end() || it->second.attempt != attempt) return false;
    it->second.arrived = arrived;
    return true;
  };
  self->request(st.cfg.edges[edge], timeout, t.ins)
      .then(
          [=](async_res& res) {
            auto& s = self->state;
            if (!current(true)) return;
            if (simulated(self)) {
              s.releases.arrive(seq, std::move(res));
              async_drain(self);
            } else {
              std::optional<async_res> payload{std::move(res)};
              async_process(self, seq, payload);
              async_fill(self);
              if (s.running) close_stalled_group(self);
            }
          },
          [=](caf::error& err) {
            auto& s = self->state;
            if (!current(!receiver_down(err))) return;
            if (receiver_down(err)) {
              edge_lost(self, edge, err);
              return;
            }
            note_failure(self, "edge " + std::to_string(edge) + ": " + describe(err));
            if (simulated(self)) {
              s.releases.cancel(seq);
              async_drain(self);
            } else {
              std::optional<async_res> none;
              async_process(self, seq, none);
              async_fill(self);
              if (s.running) close_stalled_group(self);
            }
          });
}

void async_dispatch(server_ptr self, uint32_t id) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  const auto target = edge_for(self, id);
  if (!target) return;  // async_fill's sampler skips unreachable clients
  const uint32_t edge = *target;
  if (edge != st.route->edge_of(id)) ++st.rerouted_since_step;
  const uint64_t seq = st.next_seq++;
  const double finish = st.sim_now + (simulated(self) ? duration_of(self, id) : 0.0);
  uint64_t group = 0;
  if (sc.async.edge == edge_mode::preaggregate) {
    auto& og = st.open_groups[edge];
    if (og.id != 0 && og.base != st.buffer->version()) close_group(self, edge);
    if (og.id == 0) og = server_state::open_group{st.next_group++, st.buffer->version(), 0};
    group = og.id;
    ++og.size;
  }
  async_ins ins;
  ins.seq = seq;
  ins.client = id;
  ins.base_version = st.buffer->version();
  ins.task_seed = stream_key(sc.seed, rng_tag::shuffle, seq, id);
  ins.finish = finish;
  ins.model = st.model;
  ins.settings = settings_of(sc);
  ins.timeout_s = sc.training.timeout_s;
  ins.group = group;
  ins.group_params = sc.async.delta == delta_rule::current;
  auto& t =
      st.tasks.emplace(seq, server_state::task{id, edge, group, std::move(ins)}).first->second;
  t.incarnation = st.edge_incarnation[edge];
  st.busy_clients.insert(id);
  if (simulated(self)) st.releases.dispatch(seq, finish);
  send_task(self, seq);
  if (group != 0 && st.open_groups[edge].size >= sc.async.preaggregate) close_group(self, edge);
}

void async_fill(server_ptr self) {
  auto& st = self->state;
  const uint32_t slots = st.cfg.sc.async.concurrency;
  while (st.running && st.tasks.size() < slots) {
    std::vector<client_id> picked;
    try {
      picked = st.pick->sample(1, static_cast<int32_t>(st.buffer->version()), [&](client_id id) {
        return st.busy_clients.count(id) > 0 || !edge_for(self, id);
      });
    } catch (const std::invalid_argument&) {
      break;  // every client is busy
    }
    if (picked.empty()) break;
    async_dispatch(self, picked.front());
  }
}

// -- lost and returning edges -------------------------------------------------------------

// Edge `e` is gone (its process died or its connection timed out): its outstanding work is
// resent to the survivors (reroute) or counted as failed (drop), at once.
void edge_lost(server_ptr self, uint32_t e, const caf::error& reason) {
  auto& st = self->state;
  if (!st.edge_alive[e]) return;
  st.edge_alive[e] = false;
  update_alive_list(self);
  if (!st.running) return;
  note_event(self, "edge " + std::to_string(e) + " lost (" + describe(reason) + "), " +
                       std::to_string(st.alive_edges.size()) + " of " +
                       std::to_string(st.edge_alive.size()) + " edges left");
  if (st.cfg.sc.protocol.mode == protocol_mode::sync) {
    ++st.rec.edges_lost;
    std::vector<uint32_t> orphaned;
    for (auto it = st.batches.begin(); it != st.batches.end();) {
      if (it->second.edge != e) {
        ++it;
        continue;
      }
      orphaned.insert(orphaned.end(), it->second.clients.begin(), it->second.clients.end());
      it = st.batches.erase(it);
    }
    st.edge_batch[e] = 0;
    st.backlog[e].clear();
    std::sort(orphaned.begin(), orphaned.end());
    assign_clients(self, orphaned);
    if (st.batches.empty()) finish_round(self);
    return;
  }
  // async
  ++st.edges_lost_since_step;
  ++st.edge_incarnation[e];
  st.open_groups[e] = server_state::open_group{};  // its groups went with it
  // Members that answered "held" for a group whose aggregate never came: their updates went
  // with the edge. (Their slots were freed on the held answer; they are not resent.)
  for (auto it = st.held.begin(); it != st.held.end();) {
    if (it->second.edge != e) {
      ++it;
      continue;
    }
    for (uint32_t c : it->second.clients)
      note_failure(self, "client " + std::to_string(c) + ": edge " + std::to_string(e) +
                             " lost before its group's aggregate");
    it = st.held.erase(it);
  }
  std::vector<uint64_t> orphaned;
  for (auto& [seq, t] : st.tasks)
    if (t.edge == e && !t.arrived) orphaned.push_back(seq);
  std::sort(orphaned.begin(), orphaned.end());
  for (auto seq : orphaned) {
    auto& t = st.tasks.at(seq);
    if (auto target = edge_for(self, t.client)) {
      // Resent as a forwarded update: the group it belonged to is gone with the edge.
      t.edge = *target;
      t.incarnation = st.edge_incarnation[*target];
      t.group = 0;
      t.ins.group = 0;
      ++t.attempt;
      ++st.rerouted_since_step;
      send_task(self, seq);
      continue;
    }
    ++t.attempt;
    t.arrived = true;
    note_failure(self,
                 "client " + std::to_string(t.client) + ": edge " + std::to_string(e) + " lost");
    if (simulated(self)) {
      st.releases.cancel(seq);
    } else {
      std::optional<async_res> none;
      async_process(self, seq, none);
    }
  }
  if (simulated(self)) {
    async_drain(self);
  } else {
    async_fill(self);
    if (st.running) close_stalled_group(self);
  }
}

void edge_back(server_ptr self, edge_rejoin& msg) {
  auto& st = self->state;
  if (msg.id >= st.cfg.edges.size() || !msg.edge) return;
  auto handle = caf::actor_cast<edge_actor>(msg.edge);
  st.cfg.edges[msg.id] = handle;
  self->monitor(handle);
  const bool was_lost = !st.edge_alive[msg.id];
  st.edge_alive[msg.id] = true;
  update_alive_list(self);
  note_event(self, "edge " + std::to_string(msg.id) +
                       (was_lost ? " back in service" : " replaced by a new registration"));
  if (!st.running) return;
  if (st.cfg.sc.protocol.mode == protocol_mode::sync) {
    ++st.rec.edges_rejoined;
  } else {
    ++st.edges_rejoined_since_step;
    async_fill(self);
    if (st.running) close_stalled_group(self);
  }
}

}  // namespace

std::vector<float> apply_update(const std::vector<float>& model, const weighted_accumulator& acc,
                                double server_lr) {
  if (acc.empty()) return model;
  auto mean = acc.mean();
  std::vector<float> out(model.size());
  for (size_t i = 0; i < model.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(model[i]) + server_lr * mean[i]);
  return out;
}

server_actor::behavior_type server(server_actor::stateful_pointer<server_state> self,
                                   server_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.model = param_blob{st.cfg.initial_model};
  st.pick = make_sampler(st.cfg.sc.selection.strategy, *st.cfg.registry, st.cfg.sc.seed);
  st.route = std::make_unique<router>(st.cfg.sc.topology.routing, st.cfg.registry->size(),
                                      static_cast<uint32_t>(st.cfg.edges.size()), st.cfg.sc.seed);
  st.edge_alive.assign(st.cfg.edges.size(), true);
  st.edge_incarnation.assign(st.cfg.edges.size(), 0);
  update_alive_list(self);
  for (auto& e : st.cfg.edges) self->monitor(e);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& edges = self->state.cfg.edges;
    for (uint32_t e = 0; e < edges.size(); ++e)
      if (edges[e].address() == msg.source) edge_lost(self, e, msg.reason);
  });
  return {
      [=](run_atom) -> caf::result<run_report> {
        auto& s = self->state;
        if (s.running) return make_error(errc::bad_request, "the server is already running");
        s.running = true;
        s.promise = self->make_response_promise<run_report>();
        auto rp = s.promise;
        s.started = std::chrono::steady_clock::now();
        if (s.cfg.sc.protocol.mode == protocol_mode::async) {
          s.buffer = std::make_unique<fedbuff>(s.cfg.initial_model, s.cfg.sc.async);
          s.open_groups.assign(s.cfg.edges.size(), server_state::open_group{});
          async_fill(self);
          close_stalled_group(self);
        } else {
          start_round(self);
        }
        return rp;
      },
      [=](edge_rejoin& msg) { edge_back(self, msg); },
  };
}

}  // namespace fedactor
