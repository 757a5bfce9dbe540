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

void on_edge_done(server_ptr self) {
  if (--self->state.pending_edges == 0) finish_round(self);
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
  // Group by edge: O(k + edges). Ids arrive ascending, so each group stays ascending.
  std::vector<std::vector<uint32_t>> groups(st.cfg.edges.size());
  for (auto id : ids) groups[st.route->edge_of(id)].push_back(id);
  size_t widest = 0;
  for (auto& g : groups) widest = std::max(widest, g.size());
  // An edge trains at most edge_capacity clients at a time, each within the client
  // timeout: its answer is due after that many waves, plus slack for messaging.
  const double waves = std::ceil(static_cast<double>(widest) / std::max(1u, st.cfg.edge_capacity));
  const auto edge_timeout = seconds(sc.training.timeout_s * std::max(1.0, waves) + 30.0);
  st.pending_edges = 0;
  for (size_t e = 0; e < groups.size(); ++e)
    if (!groups[e].empty()) ++st.pending_edges;
  if (st.pending_edges == 0) {
    finish_round(self);
    return;
  }
  for (size_t e = 0; e < groups.size(); ++e) {
    if (groups[e].empty()) continue;
    edge_ins ins;
    ins.round = round;
    ins.model_version = st.version;
    ins.seed = sc.seed;
    ins.model = st.model;
    ins.settings = settings_of(sc);
    ins.client_timeout_s = sc.training.timeout_s;
    const auto count = static_cast<uint32_t>(groups[e].size());
    ins.clients = std::move(groups[e]);
    self->request(st.cfg.edges[e], edge_timeout, std::move(ins))
        .then(
            [=](edge_res& res) {
              auto& s = self->state;
              if (res.round != round || s.round + 1 != round) return;
              auto agg =
                  weighted_accumulator::deserialize(res.aggregate.data(), res.aggregate.size());
              if (!agg || !s.acc.merge(*agg)) {
                s.rec.failures += count;
                if (s.rec.failure_reasons.size() < max_reported_failures)
                  s.rec.failure_reasons.push_back("edge " + std::to_string(e) +
                                                  ": malformed aggregate");
              } else {
                s.rec.failures += res.failed;
                for (auto& f : res.failures)
                  if (s.rec.failure_reasons.size() < max_reported_failures)
                    s.rec.failure_reasons.push_back(std::move(f));
              }
              s.rec.live_clients += res.live_clients;
              s.rec.peak_live_clients += res.peak_live_clients;
              s.rec.evictions += res.evictions;
              on_edge_done(self);
            },
            [=](caf::error& err) {
              auto& s = self->state;
              if (s.round + 1 != round) return;
              s.rec.failures += count;
              if (s.rec.failure_reasons.size() < max_reported_failures)
                s.rec.failure_reasons.push_back("edge " + std::to_string(e) + ": " + describe(err));
              on_edge_done(self);
            });
  }
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
      break;  // its update travels in its group
    case async_res_kind::group: {
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

void async_dispatch(server_ptr self, uint32_t id) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  const uint64_t seq = st.next_seq++;
  const double finish = st.sim_now + (simulated(self) ? duration_of(self, id) : 0.0);
  const auto edge = st.route->edge_of(id);
  uint64_t group = 0;
  if (sc.async.edge == edge_mode::preaggregate) {
    auto& og = st.open_groups[edge];
    if (og.id != 0 && og.base != st.buffer->version()) close_group(self, edge);
    if (og.id == 0) og = server_state::open_group{st.next_group++, st.buffer->version(), 0};
    group = og.id;
    ++og.size;
  }
  st.tasks.emplace(seq, server_state::task{id, edge, group});
  st.busy_clients.insert(id);
  if (simulated(self)) st.releases.dispatch(seq, finish);
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
  // Tasks queue at the edge behind at most `concurrency` others.
  const double waves =
      std::ceil(static_cast<double>(sc.async.concurrency) / std::max(1u, st.cfg.edge_capacity));
  const auto timeout = seconds(sc.training.timeout_s * std::max(1.0, waves) + 30.0);
  self->request(st.cfg.edges[edge], timeout, std::move(ins))
      .then(
          [=](async_res& res) {
            auto& s = self->state;
            if (!s.running) return;
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
            if (!s.running) return;
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
  if (group != 0 && st.open_groups[edge].size >= sc.async.preaggregate) close_group(self, edge);
}

void async_fill(server_ptr self) {
  auto& st = self->state;
  const uint32_t slots = st.cfg.sc.async.concurrency;
  while (st.running && st.tasks.size() < slots) {
    std::vector<client_id> picked;
    try {
      picked = st.pick->sample(1, static_cast<int32_t>(st.buffer->version()),
                               [&](client_id id) { return st.busy_clients.count(id) > 0; });
    } catch (const std::invalid_argument&) {
      break;  // every client is busy
    }
    if (picked.empty()) break;
    async_dispatch(self, picked.front());
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
  };
}

}  // namespace fedactor
