#include "runtime/protocol/sync_loop.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/math/update_spread.hpp"
#include "runtime/population/sample_size.hpp"
#include "runtime/strategy/scaffold.hpp"
#include "runtime/timing/device_profile.hpp"

namespace fedactor {

namespace {

double elapsed_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

sync_loop::sync_loop(scenario sc, parts p, edge_set& edges, std::vector<float> initial_model,
                     uint32_t edge_capacity)
    : sc_(std::move(sc)),
      parts_(std::move(p)),
      edges_(edges),
      edge_capacity_(std::max(1u, edge_capacity)),
      timeline_(sc_.events),
      sample_size_(sc_.selection.clients_per_round) {
  if (!parts_.registry || !parts_.pick || !parts_.optimizer)
    throw std::invalid_argument("sync_loop needs a registry, a sampler and a server optimizer");
  if (initial_model.empty()) throw std::invalid_argument("sync_loop needs a model");
  if (parts_.trainable == 0 || parts_.trainable > initial_model.size())
    parts_.trainable = initial_model.size();
  if (parts_.optimizer->dim() != parts_.trainable)
    throw std::invalid_argument(
        "sync_loop: the server optimizer is built for " + std::to_string(parts_.optimizer->dim()) +
        " values, the model has " + std::to_string(parts_.trainable) + " parameters");
  model_ = make_snapshot(std::move(initial_model));
  if (sc_.strategy.client == client_algorithm::scaffold)
    control_ = make_snapshot(std::vector<float>(parts_.trainable, 0.0f));
  if (!sc_.events.empty()) conditions_ = std::make_unique<client_conditions>(*parts_.registry, sc_);
  if (sc_.population.availability.model != availability_model::always)
    online_ =
        std::make_unique<online_model>(sc_.population.availability, *parts_.registry, sc_.seed);
  if (sc_.selection.pace.enabled)
    pace_.emplace(sc_.selection.pace.ewma, sc_.selection.pace.max_factor);
  const auto& r = sc_.robust;
  robust_.norm_mode = r.norm_bound.mode;
  robust_.norm_bound = r.norm_bound.mode == norm_bound_mode::off ? 0.0 : r.norm_bound.bound;
  robust_.rule = r.rule;
  robust_.trim = r.trim;
  robust_.krum_f = r.krum_f;
  robust_.krum_m = r.krum_m;
  if (r.norm_bound.mode != norm_bound_mode::off && r.norm_bound.target_quantile > 0)
    adaptive_.emplace(r.norm_bound.bound, r.norm_bound.target_quantile, r.norm_bound.lr);
  if (sc_.privacy.mode == privacy_mode::dp_fedavg)
    dp_ = std::make_unique<dp_fedavg>(sc_.privacy, sc_.seed, sc_.selection.clients_per_round);
}

sync_step sync_loop::start() {
  sync_step step;
  if (round_ || finished_) return step;
  // A fresh run's first checkpoint is its start: a run stopped or killed before its first
  // periodic checkpoint can still be resumed (its rounds are redone).
  if (checkpoints_ && checkpoint_every_ > 0 && rounds_done_ == 0)
    step.checkpoint =
        std::make_shared<loop_checkpoint>(loop_checkpoint{0, false, encode(save_state()), {}});
  next_round(step);
  return step;
}

sync_task sync_loop::task_of(edge_batch b) const {
  sync_task t;
  // An edge trains at most edge_capacity clients at a time, each within the client timeout:
  // its answer is due after that many waves, plus slack for messaging.
  const double waves = std::ceil(static_cast<double>(b.clients.size()) / edge_capacity_);
  t.timeout_s = sc_.training.timeout_s * std::max(1.0, waves) + 30.0;
  t.batch = std::move(b);
  t.round = round_->number();
  t.model_version = version_;
  t.model = model_;
  t.aux = control_;
  t.robust = robust_;
  t.robust.norm_bound = norm_bound();
  t.clip = dp_ ? dp_->clip() : 0;
  return t;
}

double sync_loop::task_seconds(uint32_t id, size_t model_bytes) const {
  auto profile = make_device_profile(sc_.devices, sc_.seed, id);
  const double transfer = conditions_ ? conditions_->transfer_factor(id) : 1.0;
  const double compute = conditions_ ? conditions_->compute_factor(id) : 1.0;
  return task_duration(sc_.devices, profile, parts_.registry->num_samples(id), sc_.training.epochs,
                       model_bytes, transfer, compute);
}

void sync_loop::dispatch(edge_batch b, sync_step& step) {
  auto& load = round_->record().edge_load[b.edge];
  load.tasks += static_cast<uint32_t>(b.clients.size());
  if (sc_.clock == clock_kind::simulated) {
    const size_t model_bytes = model_->size() * sizeof(float);
    for (auto id : b.clients)
      load.busy_s += task_seconds(id, model_bytes) + edges_.extra_latency_s(id, b.edge);
  }
  step.send.push_back(task_of(std::move(b)));
}

std::vector<uint32_t> sync_loop::keep_in_time(std::vector<uint32_t> ids, uint32_t k,
                                              round_record& rec,
                                              std::vector<std::optional<uint32_t>>* routed) {
  const double deadline = sc_.protocol.round_deadline;
  const size_t model_bytes = model_->size() * sizeof(float);
  struct candidate {
    double duration;
    uint32_t id;
    std::optional<uint32_t> edge;
    bool operator<(const candidate& o) const {
      return duration < o.duration || (duration == o.duration && id < o.id);
    }
  };
  std::vector<candidate> by_finish;
  by_finish.reserve(ids.size());
  double last_offline = 0;
  for (auto id : ids) {
    double d = task_seconds(id, model_bytes);
    if (auto off = online_ ? online_->offline_at(id, sim_now_, sim_now_ + d) : std::nullopt) {
      // Goes offline before it finishes: a counted failure (at its offline time), never sent.
      rec.failures_by.add(failure_code::unavailable);
      ++rec.went_offline;
      last_offline = std::max(last_offline, *off - sim_now_);
      continue;
    }
    std::optional<uint32_t> edge;
    if (routed) {
      // Edges with regions: the edge is chosen now, so the task pays its inter-region latency.
      edge = edges_.edge_for(id);
      if (edge) d += edges_.extra_latency_s(id, *edge);
    }
    by_finish.push_back(candidate{d, id, edge});
  }
  std::sort(by_finish.begin(), by_finish.end());
  std::vector<candidate> kept;
  bool cut_by_deadline = false;
  double longest = 0;
  for (auto& c : by_finish) {
    if (kept.size() >= k || (deadline > 0 && c.duration > deadline)) {
      cut_by_deadline = cut_by_deadline || (kept.size() < k && deadline > 0);
      if (c.edge) edges_.release(*c.edge);  // not sent: its edge does not hold it
      continue;
    }
    kept.push_back(c);
    longest = c.duration;
  }
  durations_.clear();
  for (const auto& c : by_finish) {
    if (durations_.size() >= kept.size()) break;
    durations_.emplace_back(c.id, c.duration);
  }
  std::sort(durations_.begin(), durations_.end());
  rec.dropped = static_cast<uint32_t>(by_finish.size() - kept.size());
  rec.sim_round_s = cut_by_deadline ? deadline : longest;
  if (online_ && kept.empty()) {
    // Nothing to wait for: the round lasts until its last client went offline, or, when nobody
    // was online, until the next time someone may come online (so the clock moves on).
    if (rec.went_offline > 0) {
      rec.sim_round_s = last_offline;
    } else if (ids.empty()) {
      if (auto next = online_->next_change(sim_now_)) rec.sim_round_s = *next - sim_now_;
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const candidate& a, const candidate& b) { return a.id < b.id; });
  std::vector<uint32_t> out;
  out.reserve(kept.size());
  if (routed) routed->clear();
  for (auto& c : kept) {
    out.push_back(c.id);
    if (routed) routed->push_back(c.edge);
  }
  return out;
}

void sync_loop::next_round(sync_step& step) {
  while (!finished_) {
    started_ = std::chrono::steady_clock::now();
    const uint32_t number = rounds_done_ + 1;
    round_.emplace(number, model_->size(), edges_, control_ ? control_->size() : 0);
    if (dp_) round_->expect_clipped(dp_->clip());
    auto& rec = round_->record();
    round_sim_start_ = sim_now_;
    round_fired_ = timeline_.fired_ids().size();
    fire_events(number, rec);
    const uint32_t k = sample_size_;
    // Without events every client is available (and the sampler is called as before).
    const auto population = conditions_ ? conditions_->available_count() : parts_.registry->size();
    // k + ceil(k·o), with the same guard against float noise as validate() (100 × 0.07 = 7).
    const double extra = std::ceil(k * sc_.selection.over_select * (1.0 - 1e-12));
    const double asked = pace_ ? static_cast<double>(pace_->wanted(k)) : k + extra;
    const auto wanted =
        static_cast<uint32_t>(std::min<double>(static_cast<double>(population), asked));
    if (pace_) {
      rec.over_select_factor = pace_->factor();
      rec.wanted = wanted;
      rec.online_fraction =
          static_cast<double>(population) / static_cast<double>(parts_.registry->size());
    }
    // Each available client is in the round's sample with probability wanted / population.
    round_q_ = population > 0 ? static_cast<double>(wanted) / static_cast<double>(population) : 0;
    std::vector<uint32_t> ids;
    if (resume_picks_) {
      // The round a stop interrupted: its clients were picked before the checkpoint.
      ids = std::move(*resume_picks_);
      resume_picks_.reset();
    } else if (online_) {
      ids = sample_available(wanted, number);
    } else if (conditions_ && !conditions_->everyone_available()) {
      const client_conditions& c = *conditions_;
      ids = parts_.pick->sample(wanted, static_cast<int32_t>(number),
                                [&c](client_id id) { return !c.available(id); });
    } else {
      ids = parts_.pick->sample(wanted, static_cast<int32_t>(number));
    }
    if (online_) {
      rec.online_fraction = online_->online_fraction(sim_now_);
      rec.wanted = wanted;
    }
    rec.selected = static_cast<uint32_t>(ids.size());
    if (checkpoints_ && checkpoint_every_ > 0) round_picks_ = ids;
    durations_.clear();
    // Region routing counts the tasks each edge holds; a sync round's tasks all end with it.
    edges_.release_all();
    std::vector<std::optional<uint32_t>> routed;
    const bool by_region = edges_.has_regions();
    if (sc_.clock == clock_kind::simulated)
      ids = keep_in_time(std::move(ids), k, rec, by_region ? &routed : nullptr);
    // Grouped by edge: O(k + edges). Ids are ascending, so each batch stays ascending.
    auto send = by_region && sc_.clock == clock_kind::simulated ? round_->assign(ids, routed)
                                                                : round_->assign(ids);
    for (auto& b : send) dispatch(std::move(b), step);
    if (!round_->complete()) return;
    // Nothing went out (every client unreachable): the round ends at once.
    finish_round(step);
  }
}

std::vector<uint32_t> sync_loop::sample_available(uint32_t wanted, uint32_t number) {
  const online_model& on = *online_;
  const client_conditions* c = conditions_.get();
  const double t = sim_now_;
  const auto excluded = [&on, c, t](client_id id) {
    return !on.online(id, t) || (c && !c->available(id));
  };
  // Expected O(wanted / online fraction) draws; when fewer than `wanted` clients are online
  // the sampler refuses (unchanged), and one pass counts them: the round takes them all.
  try {
    return parts_.pick->sample(wanted, static_cast<int32_t>(number), excluded);
  } catch (const std::invalid_argument&) {
  }
  // weighted never picks a client without samples: those are not counted.
  const bool weighted = sc_.selection.strategy == sampling_kind::weighted;
  uint32_t online = 0;
  for (uint64_t i = 0; i < parts_.registry->size(); ++i) {
    const auto id = static_cast<client_id>(i);
    if (!excluded(id) && !(weighted && parts_.registry->num_samples(id) == 0)) ++online;
  }
  if (online == 0) return {};
  return parts_.pick->sample(online, static_cast<int32_t>(number), excluded);
}

void sync_loop::fire_events(uint32_t number, round_record& rec) {
  if (timeline_.empty()) return;
  auto due = timeline_.take_until(sim_now_);
  for (auto& e : timeline_.take_counted(number)) due.push_back(std::move(e));
  for (size_t i = 0; i < due.size(); ++i) {
    const scenario_event e = due[i];  // a copy: due may grow below
    int64_t changed = 0;
    if (e.kind == event_kind::edge_down) {
      changed = edges_.lose(e.edge) ? 1 : 0;
      rec.edges_lost += static_cast<uint32_t>(changed);
    } else if (e.kind == event_kind::edge_up) {
      changed = edges_.rejoin(e.edge) ? 1 : 0;
      rec.edges_rejoined += static_cast<uint32_t>(changed);
    } else {
      changed = conditions_->apply(e);
    }
    rec.events.push_back(fired(e, sim_now_, changed));
    // No client left to sample: the simulated clock jumps to the next `at` event (which may
    // bring some back), as an async run does.
    if (i + 1 == due.size() && conditions_->available_count() == 0) {
      if (auto next = timeline_.next_at()) {
        sim_now_ = std::max(sim_now_, *next);
        for (auto& more : timeline_.take_until(sim_now_)) due.push_back(std::move(more));
      }
    }
  }
}

void sync_loop::settle(sync_step& step, std::vector<edge_batch> send) {
  for (auto& b : send) dispatch(std::move(b), step);
  if (!round_ || !round_->complete()) return;
  finish_round(step);
  next_round(step);
}

void sync_loop::finish_round(sync_step& step) {
  auto& acc = round_->aggregate();
  auto rec = std::move(round_->record());
  if (robust_.norm_mode != norm_bound_mode::off) {
    // The bound this round's edges applied, what it did, and the next round's bound.
    const auto& norm = round_->norm();
    rec.norm_bound = norm_bound();
    rec.norm_clipped = norm.clipped;
    rec.norm_rejected = norm.rejected;
    totals_.norm_clipped += norm.clipped;
    totals_.norm_rejected += norm.rejected;
    if (adaptive_)
      adaptive_->update(norm.within,
                        static_cast<uint64_t>(norm.within) + norm.clipped + norm.rejected);
  }
  if (sc_.selection.adaptive_size.enabled) {
    rec.sample_size = sample_size_;
    rec.next_sample_size = sample_size_;
  }
  if (!acc.empty() || dp_) {
    const size_t dim = model_->size();
    std::vector<float> mean(dim);
    if (dp_) {
      dp_->release(acc, round_->number(), mean.data());
      const auto d = dp_->end_round(round_->number(), round_->unclipped(), round_q_);
      rec.private_round = true;
      rec.dp_clip = d.clip;
      rec.dp_noise_std = d.noise_std;
      rec.dp_unclipped = static_cast<uint32_t>(round_->unclipped());
      rec.dp_next_clip = d.next_clip;
      rec.epsilon = d.epsilon;
      rec.delta = d.delta;
    } else {
      acc.mean_into(mean.data());
      learn_from_reports(mean, rec);
    }
    next_.resize(dim);
    parts_.optimizer->step(model_->data(), mean.data(), next_.data(), parts_.trainable);
    // Buffers (running statistics) are not stepped: they become the weighted mean.
    for (size_t i = parts_.trainable; i < dim; ++i)
      next_[i] =
          static_cast<float>(static_cast<double>((*model_)[i]) + static_cast<double>(mean[i]));
    model_ = make_snapshot(next_);
    ++version_;
    const auto& aux = round_->aux_aggregate();
    if (control_ && !aux.empty()) {
      std::vector<float> c = *control_;
      server_control_step(c, aux.mean(), aux.count(), parts_.registry->size());
      control_ = make_snapshot(std::move(c));
    }
  }
  ++rounds_done_;
  sim_now_ += rec.sim_round_s;
  rec.round = rounds_done_;
  rec.model_version = version_;
  rec.clients = static_cast<uint32_t>(acc.count());
  rec.failures = rec.failures_by.total();
  // The clients that took a task (the over-selected and deadline-cut ones did not).
  if (pace_) pace_->observe(rec.selected - std::min(rec.selected, rec.dropped), rec.failures);
  rec.mean_loss = acc.empty() ? 0.0 : acc.scalar_mean();
  rec.wall_s = elapsed_since(started_);
  rec.clients_per_s = rec.wall_s > 0 ? rec.clients / rec.wall_s : 0.0;
  rec.sim_time_s = sim_now_;
  rec.edges_alive = static_cast<uint32_t>(edges_.alive_edges().size());
  totals_.clients_trained += rec.clients;
  totals_.failures.merge(rec.failures_by);
  if (!acc.empty()) totals_.final_loss = rec.mean_loss;
  round_.reset();
  // A scripted server crash due before the next round: listed in this round's record.
  std::optional<scenario_event> crash;
  if (rounds_done_ < sc_.protocol.rounds)
    if ((crash = timeline_.take_crash(rounds_done_ + 1, sim_now_)))
      rec.events.push_back(fired(*crash, sim_now_, 0));
  step.rounds.push_back(finished_round{std::move(rec), model_});
  if (rounds_done_ >= sc_.protocol.rounds) {
    finished_ = true;
    step.finished = true;
  }
  if (checkpoints_ &&
      (finished_ || crash || (checkpoint_every_ > 0 && rounds_done_ % checkpoint_every_ == 0)))
    step.checkpoint = std::make_shared<loop_checkpoint>(
        loop_checkpoint{rounds_done_, finished_, encode(save_state()), {}});
  if (crash) {
    // The server goes down with the checkpoint just taken (the crash is in it, as fired).
    finished_ = halted_ = true;
    step.finished = true;
  }
}

void sync_loop::learn_from_reports(const std::vector<float>& mean, round_record& rec) {
  auto reports = round_->reports();
  std::sort(reports.begin(), reports.end(),
            [](const client_report& a, const client_report& b) { return a.client < b.client; });
  update_spread spread;
  for (const auto& r : reports) {
    double duration = 0;
    auto it =
        std::lower_bound(durations_.begin(), durations_.end(), std::make_pair(r.client, -1.0));
    if (it != durations_.end() && it->first == r.client) duration = it->second;
    parts_.pick->observe(r.client, client_outcome{r.loss, r.samples, duration});
    spread.add(static_cast<double>(r.samples), r.sq_norm);
  }
  const auto& cfg = sc_.selection.adaptive_size;
  // Every folded update must be reported for the spread to describe the aggregate.
  if (!cfg.enabled || reports.empty() || reports.size() != round_->aggregate().count()) return;
  double mean_sq = 0;
  for (float v : mean) mean_sq += static_cast<double>(v) * static_cast<double>(v);
  rec.rel_var = spread.relative_variance(mean_sq);
  sample_size_ = next_sample_size(sample_size_, rec.rel_var, cfg);
  rec.next_sample_size = sample_size_;
}

void sync_loop::checkpoint_every(uint32_t every) {
  checkpoints_ = true;
  checkpoint_every_ = every;
}

sync_loop_state sync_loop::save_state() const {
  sync_loop_state s;
  s.rounds_done = rounds_done_;
  s.version = version_;
  s.sim_now = sim_now_;
  s.finished = finished_;
  s.totals = totals_;
  s.model = *model_;
  if (control_) s.control = *control_;
  s.optimizer = parts_.optimizer->save_state();
  s.sampler = parts_.pick->save_state();
  byte_writer reg;
  parts_.registry->save_picks(reg);
  s.registry = reg.take();
  s.fired_events = timeline_.fired_ids();
  if (adaptive_) s.clip_bound = adaptive_->bound();
  if (dp_) s.privacy = dp_->save_state();
  if (sc_.selection.adaptive_size.enabled) s.sample_size = sample_size_;
  if (pace_) s.pace_failure_rate = pace_->failure_rate();
  return s;
}

void sync_loop::load_state(const sync_loop_state& s) {
  const std::string what = "checkpoint";
  if (round_) throw checkpoint_error(what + ": the loop is already running");
  if (s.model.size() != model_->size())
    throw checkpoint_error(what + ": a model of " + std::to_string(s.model.size()) +
                           " values, this run's has " + std::to_string(model_->size()));
  if (s.control.size() != (control_ ? control_->size() : 0))
    throw checkpoint_error(what + ": a control variate of " + std::to_string(s.control.size()) +
                           " values, this run expects " +
                           std::to_string(control_ ? control_->size() : 0));
  if (s.rounds_done > sc_.protocol.rounds)
    throw checkpoint_error(what + ": " + std::to_string(s.rounds_done) +
                           " rounds done, the scenario has " + std::to_string(sc_.protocol.rounds));
  try {
    parts_.optimizer->load_state(s.optimizer.data(), s.optimizer.size());
  } catch (const std::invalid_argument& e) {
    throw checkpoint_error(what + ": " + e.what());
  }
  if (adaptive_ ? !(s.clip_bound > 0) : s.clip_bound != 0)
    throw checkpoint_error(what + (adaptive_ ? ": no adaptive clip bound, this run has one"
                                             : ": an adaptive clip bound, this run has none"));
  if (s.privacy.empty() != !dp_)
    throw checkpoint_error(what + (dp_ ? ": no privacy state, this run has privacy.mode dp_fedavg"
                                       : ": a privacy state, this run has privacy.mode off"));
  if (dp_) dp_->load_state(s.privacy, what);
  if (pace_ ? s.pace_failure_rate < 0 : s.pace_failure_rate >= 0)
    throw checkpoint_error(what + (pace_ ? ": no pace steering state, this run has selection.pace"
                                         : ": a pace steering state, this run has no "
                                           "selection.pace"));
  const auto& size_cfg = sc_.selection.adaptive_size;
  if (size_cfg.enabled ? (s.sample_size < size_cfg.min || s.sample_size > size_cfg.max)
                       : s.sample_size != 0)
    throw checkpoint_error(
        what + (size_cfg.enabled
                    ? ": sample size " + std::to_string(s.sample_size) +
                          " outside this run's "
                          "selection.adaptive_size [" +
                          std::to_string(size_cfg.min) + ", " + std::to_string(size_cfg.max) + "]"
                    : std::string(": an adaptive sample size, this run's size is fixed")));
  if (!timeline_.restore(s.fired_events))
    throw checkpoint_error(what + ": its fired events do not fit this scenario's timeline");
  if (s.pending) {
    if (s.finished || s.rounds_done >= sc_.protocol.rounds)
      throw checkpoint_error(what + ": a round in progress after the last round");
    const uint64_t n = parts_.registry->size();
    const uint32_t k = size_cfg.enabled ? s.sample_size : sc_.selection.clients_per_round;
    const double most = k + std::ceil(k * sc_.selection.over_select);
    if (static_cast<double>(s.pending_ids.size()) > most)
      throw checkpoint_error(what + ": " + std::to_string(s.pending_ids.size()) +
                             " clients in the round in progress, at most " +
                             std::to_string(static_cast<uint64_t>(most)) + " are picked");
    for (size_t i = 0; i < s.pending_ids.size(); ++i)
      if (s.pending_ids[i] >= n || (i > 0 && s.pending_ids[i] <= s.pending_ids[i - 1]))
        throw checkpoint_error(what + ": the clients of the round in progress are not " +
                               "ascending ids of this population");
  }
  parts_.pick->load_state(s.sampler.data(), s.sampler.size());
  byte_reader reg(s.registry.data(), s.registry.size(), what + " registry");
  parts_.registry->load_picks(reg);
  reg.finish();
  if (s.pending) resume_picks_ = s.pending_ids;
  // The events' effects, replayed in firing order (each a function of the event alone).
  replay_effects(sc_.events, s.fired_events, edges_, conditions_.get());
  rounds_done_ = s.rounds_done;
  version_ = s.version;
  sim_now_ = s.sim_now;
  finished_ = s.finished || rounds_done_ >= sc_.protocol.rounds;
  totals_ = s.totals;
  model_ = make_snapshot(s.model);
  if (control_) control_ = make_snapshot(s.control);
  if (adaptive_) adaptive_->set_bound(s.clip_bound);
  if (size_cfg.enabled) sample_size_ = s.sample_size;
  if (pace_) pace_->set_failure_rate(s.pace_failure_rate);
}

sync_step sync_loop::answered(uint64_t batch, edge_report rep) {
  sync_step step;
  if (!round_) return step;
  auto send = round_->answered(batch, std::move(rep));
  step.refused = round_->take_refusals();
  settle(step, std::move(send));
  return step;
}

sync_step sync_loop::refused(uint64_t batch, answer_refusal why, const std::string& detail) {
  sync_step step;
  if (!round_) return step;
  auto send = round_->refused(batch, why, detail);
  step.refused = round_->take_refusals();
  settle(step, std::move(send));
  return step;
}

sync_step sync_loop::failed(uint64_t batch, failure_code code, const std::string& detail) {
  sync_step step;
  if (!round_) return step;
  settle(step, round_->failed(batch, code, detail));
  return step;
}

sync_step sync_loop::edge_lost(uint32_t e) {
  sync_step step;
  if (!round_) return step;
  settle(step, round_->edge_lost(e));
  return step;
}

bool sync_loop::stop() {
  if (finished_) return false;
  if (round_ && checkpoints_ && checkpoint_every_ > 0) {
    // The round in progress is redone on resume: the state as it started, but for the
    // sampler and registry, which stay past its pick (their pick is kept instead).
    auto s = save_state();
    s.sim_now = round_sim_start_;
    s.fired_events.resize(round_fired_);
    s.pending = true;
    s.pending_ids = round_picks_;
    stop_checkpoint_ =
        std::make_shared<loop_checkpoint>(loop_checkpoint{rounds_done_, false, encode(s), {}});
  }
  round_.reset();
  finished_ = true;
  stopped_ = true;
  return true;
}

void sync_loop::edge_rejoined(uint32_t) {
  if (round_) ++round_->record().edges_rejoined;
}

}  // namespace fedactor
