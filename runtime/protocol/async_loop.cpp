#include "runtime/protocol/async_loop.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/sample_size.hpp"
#include "runtime/scenario/schema.hpp"
#include "runtime/timing/device_profile.hpp"

namespace fedactor {

namespace {

constexpr size_t max_details = 8;

double elapsed_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

fedbuff make_buffer(std::vector<float> model, const scenario& sc, async_loop::parts& p) {
  if (!p.registry || !p.pick || !p.optimizer)
    throw std::invalid_argument("async_loop needs a registry, a sampler and a server optimizer");
  fedbuff b(std::move(model), sc.async, std::move(p.optimizer), p.weight, p.trainable, sc.robust);
  if (sc.selection.adaptive_size.enabled) b.measure_spread();
  return b;
}

}  // namespace

async_loop::async_loop(scenario sc, parts p, edge_set& edges, std::vector<float> initial_model,
                       uint32_t edge_capacity)
    : sc_(std::move(sc)),
      parts_(std::move(p)),
      edges_(edges),
      edge_capacity_(std::max(1u, edge_capacity)),
      buffer_(make_buffer(std::move(initial_model), sc_, parts_)),
      model_(make_snapshot(buffer_.model())),
      open_groups_(edges.size()),
      timeline_(sc_.events),
      load_(edges.size()),
      in_flight_by_edge_(edges.size(), 0) {
  concurrency_ = sc_.async.concurrency;
  peak_concurrency_ = sc_.selection.adaptive_size.enabled
                          ? std::max(concurrency_, sc_.selection.adaptive_size.max)
                          : concurrency_;
  step_started_ = std::chrono::steady_clock::now();
  if (!sc_.events.empty()) conditions_ = std::make_unique<client_conditions>(*parts_.registry, sc_);
  if (sc_.population.availability.model != availability_model::always && simulated())
    online_ =
        std::make_unique<online_model>(sc_.population.availability, *parts_.registry, sc_.seed);
  if (sc_.selection.pace.enabled) {
    pace_.emplace(sc_.selection.pace.ewma, sc_.selection.pace.max_factor);
    peak_concurrency_ = static_cast<uint32_t>(
        std::ceil(static_cast<double>(peak_concurrency_) * sc_.selection.pace.max_factor));
  }
}

uint32_t async_loop::slots() const {
  return pace_ ? pace_->wanted(concurrency_) : concurrency_;
}

void async_loop::stall(std::string reason, async_step& step) {
  stall_reason_ = std::move(reason);
  finished_ = stalled_ = true;
  step.finished = true;
}

void async_loop::fail(uint32_t edge, uint32_t client, failure_code code,
                      const std::string& detail) {
  failures_.add(code);
  ++unaccepted_;
  unaccepted_by_.add(code);
  if (edge < load_.size()) ++load_[edge].failed;
  if (details_.size() < max_details)
    details_.push_back("client " + std::to_string(client) + ": " + detail);
}

async_loop::task* async_loop::current(uint64_t seq, uint32_t attempt) {
  if (finished_) return nullptr;
  auto it = tasks_.find(seq);
  if (it == tasks_.end() || it->second.sent.attempt != attempt || it->second.arrived)
    return nullptr;
  return &it->second;
}

bool async_loop::awaiting(uint64_t seq, uint32_t attempt) const {
  if (finished_) return false;
  auto it = tasks_.find(seq);
  return it != tasks_.end() && it->second.sent.attempt == attempt && !it->second.arrived;
}

async_step async_loop::start() {
  async_step step;
  step_started_ = std::chrono::steady_clock::now();
  if (finished_) return step;
  // A fresh run's first checkpoint is its start (see sync_loop::start).
  if (checkpoints_ && checkpoint_every_ > 0 && steps_done_ == 0 && tasks_.empty())
    step.checkpoint =
        std::make_shared<loop_checkpoint>(loop_checkpoint{0, false, encode(save_state()), {}});
  const bool resumed = !resend_.empty();
  for (uint64_t seq : std::exchange(resend_, {})) {
    auto it = tasks_.find(seq);
    if (it == tasks_.end()) continue;
    count_dispatch(it->second.sent);
    step.send.push_back(it->second.sent);
  }
  if (!timeline_.empty()) {
    // Resumed under the simulated clock: the checkpoint was taken inside a release, which
    // refills the slot and goes on with the release loop (events first), as below.
    if (loaded_ && simulated()) fill(step);
    settle(step);
    return step;
  }
  fill(step);
  // A checkpoint is taken inside a release: the release loop goes on from there.
  // (With availability the start's tasks may all be offline ones, which only their releases
  // move on.)
  if ((resumed || online_) && simulated())
    drain(step);
  else
    close_stalled_group(step);
  return step;
}

// -- checkpoints ---------------------------------------------------------------------------

void async_loop::checkpoint_every(uint32_t every, bool mid_run) {
  checkpoints_ = true;
  checkpoint_every_ = mid_run ? every : 0;
}

async_loop_state async_loop::save_state() const {
  async_loop_state s;
  s.steps_done = steps_done_;
  s.finished = finished_;
  s.sim_now = sim_now_;
  s.sim_at_last_step = sim_at_last_step_;
  s.next_seq = next_seq_;
  s.next_group = next_group_;
  s.totals = totals_;
  s.failures = failures_;
  s.details = details_;
  s.edges_lost = edges_lost_;
  s.edges_rejoined = edges_rejoined_;
  s.rerouted = rerouted_;
  byte_writer buf;
  buffer_.save(buf);
  s.buffer = buf.take();
  std::vector<uint64_t> seqs;
  for (const auto& [seq, t] : tasks_) seqs.push_back(seq);
  std::sort(seqs.begin(), seqs.end());
  for (uint64_t seq : seqs) {
    const auto& t = tasks_.at(seq);
    s.tasks.push_back(async_task_state{seq, t.sent.attempt, t.sent.client, t.sent.base_version,
                                       t.sent.task_seed, t.sent.finish, t.num_samples,
                                       t.cancelled});
    const uint64_t v = t.sent.base_version;
    if (std::none_of(s.models.begin(), s.models.end(), [v](const auto& m) { return m.first == v; }))
      s.models.emplace_back(v, *t.sent.model);
  }
  s.sampler = parts_.pick->save_state();
  byte_writer reg;
  parts_.registry->save_picks(reg);
  s.registry = reg.take();
  s.fired_events = timeline_.fired_ids();
  if (sc_.selection.adaptive_size.enabled) s.concurrency = concurrency_;
  s.went_offline = went_offline_;
  if (pace_) s.pace_failure_rate = pace_->failure_rate();
  return s;
}

void async_loop::load_state(const async_loop_state& s) {
  const std::string what = "checkpoint";
  if (!tasks_.empty() || steps_done_ != 0)
    throw checkpoint_error(what + ": the loop has already started");
  if (sc_.async.edge == edge_mode::preaggregate && !s.tasks.empty() && !s.finished)
    throw checkpoint_error(what + ": tasks in flight in a pre-aggregating run");
  if (s.steps_done > sc_.async.aggregations)
    throw checkpoint_error(what + ": " + std::to_string(s.steps_done) +
                           " server steps done, the scenario has " +
                           std::to_string(sc_.async.aggregations));
  const size_t dim = model_->size();
  for (const auto& [v, m] : s.models)
    if (m.size() != dim)
      throw checkpoint_error(what + ": a task model of " + std::to_string(m.size()) +
                             " values, this run's has " + std::to_string(dim));
  const auto& adapt = sc_.selection.adaptive_size;
  if (adapt.enabled ? s.concurrency < adapt.min || s.concurrency > adapt.max : s.concurrency != 0)
    throw checkpoint_error(what + ": an adaptive concurrency of " + std::to_string(s.concurrency) +
                           (adapt.enabled ? ", outside [" + std::to_string(adapt.min) + ", " +
                                                std::to_string(adapt.max) + "]"
                                          : " (0: fixed), selection.adaptive_size is off"));
  if (pace_ ? s.pace_failure_rate < 0 : s.pace_failure_rate >= 0)
    throw checkpoint_error(what + (pace_ ? ": no pace steering state, this run has selection.pace"
                                         : ": a pace steering state, this run has no "
                                           "selection.pace"));
  if (!timeline_.restore(s.fired_events))
    throw checkpoint_error(what + ": its fired events do not fit this scenario's timeline");
  // A checkpoint of the start resumes as a fresh start (a stop's before the first step has
  // tasks in flight).
  loaded_ = s.steps_done > 0 || !s.tasks.empty();
  byte_reader buf(s.buffer.data(), s.buffer.size(), what + " buffer");
  buffer_.load(buf);
  buf.finish();
  // The events' effects, replayed in firing order before the tasks in flight are restored
  // (a client that had left, or an edge that was down, had its tasks withdrawn or moved then).
  replay_effects(sc_.events, s.fired_events, edges_, conditions_.get());
  parts_.pick->load_state(s.sampler.data(), s.sampler.size());
  byte_reader reg(s.registry.data(), s.registry.size(), what + " registry");
  parts_.registry->load_picks(reg);
  reg.finish();
  steps_done_ = s.steps_done;
  if (adapt.enabled) concurrency_ = s.concurrency;
  if (pace_) pace_->set_failure_rate(s.pace_failure_rate);
  went_offline_ = s.went_offline;
  finished_ = s.finished || steps_done_ >= sc_.async.aggregations;
  sim_now_ = s.sim_now;
  sim_at_last_step_ = s.sim_at_last_step;
  next_seq_ = s.next_seq;
  next_group_ = s.next_group;
  totals_ = s.totals;
  // The norm bound's totals travel in the buffer's bytes (fedbuff::save).
  totals_.norm_clipped = buffer_.stats().norm_clipped;
  totals_.norm_rejected = buffer_.stats().norm_rejected;
  failures_ = s.failures;
  details_ = s.details;
  edges_lost_ = s.edges_lost;
  edges_rejoined_ = s.edges_rejoined;
  rerouted_ = s.rerouted;
  model_ = make_snapshot(buffer_.model());
  std::vector<std::pair<uint64_t, model_snapshot>> models;
  for (const auto& [v, m] : s.models) models.emplace_back(v, make_snapshot(m));
  const double waves =
      std::ceil(static_cast<double>(peak_concurrency_) / static_cast<double>(edge_capacity_));
  // At the end nothing is resent: the tasks still in flight then are abandoned.
  for (const auto& ts : finished_ ? std::vector<async_task_state>{} : s.tasks) {
    if (ts.client >= parts_.registry->size() || ts.seq >= next_seq_ || tasks_.count(ts.seq))
      throw checkpoint_error(what + ": task " + std::to_string(ts.seq) + " does not fit the run");
    auto m = std::find_if(models.begin(), models.end(),
                          [&](const auto& x) { return x.first == ts.base_version; });
    if (m == models.end())
      throw checkpoint_error(what + ": no model of version " + std::to_string(ts.base_version) +
                             " for task " + std::to_string(ts.seq));
    async_task t;
    t.seq = ts.seq;
    t.attempt = ts.attempt;
    t.client = ts.client;
    t.base_version = ts.base_version;
    t.task_seed = ts.task_seed;
    t.finish = ts.finish;
    t.model = m->second;
    t.group_params = sc_.async.delta == delta_rule::current;
    t.timeout_s = sc_.training.timeout_s * std::max(1.0, waves) + 30.0;
    const auto target = edges_.edge_for(ts.client);
    t.edge = target ? *target : edges_.home_of(ts.client);
    task stored{t, ts.num_samples, ts.cancelled, edges_.incarnation(t.edge), ts.cancelled};
    busy_clients_.insert(ts.client);
    if (simulated()) releases_.dispatch(ts.seq, ts.finish);
    if (!ts.cancelled && !target) {
      // Its edge is gone: counted as at a loss without a survivor to take it.
      stored.arrived = stored.cancelled = true;
      fail(t.edge, ts.client, failure_code::edge_lost, "edge " + std::to_string(t.edge) + " lost");
    }
    if (stored.cancelled && simulated()) releases_.cancel(ts.seq);
    ++in_flight_by_edge_[t.edge];
    const bool resend = !stored.cancelled;
    tasks_.emplace(ts.seq, std::move(stored));
    if (resend) resend_.push_back(ts.seq);
  }
}

// -- groups --------------------------------------------------------------------------------

void async_loop::close_group(uint32_t edge, async_step& step) {
  auto& og = open_groups_[edge];
  if (og.id == 0) return;
  step.close.push_back(group_to_close{edge, og.id, og.size});
  og = open_group{};
}

void async_loop::close_all_groups(async_step& step) {
  for (uint32_t e = 0; e < open_groups_.size(); ++e) close_group(e, step);
}

// Groups close when full, when the version moves on, and when the task every release waits
// for sits in an open group (its edge holds it until the group closes). All three depend only
// on the release order, so group membership is reproducible.
void async_loop::close_stalled_group(async_step& step) {
  if (finished_) return;
  if (simulated()) {
    auto seq = releases_.blocking_seq();
    if (!seq) return;
    auto it = tasks_.find(*seq);
    if (it == tasks_.end() || it->second.sent.group == 0) return;
    if (open_groups_[it->second.sent.edge].id == it->second.sent.group)
      close_group(it->second.sent.edge, step);
  } else {
    for (auto& [seq, t] : tasks_)
      if (t.sent.group == 0 || open_groups_[t.sent.edge].id != t.sent.group) return;
    close_all_groups(step);
  }
}

// -- dispatch ------------------------------------------------------------------------------

uint64_t async_loop::stall_limit() const {
  return std::max<uint64_t>(100, 10ull * std::max(peak_concurrency_, sc_.async.buffer_size));
}

void async_loop::fill(async_step& step) {
  if (!finished_ && unaccepted_ >= stall_limit()) {
    std::string causes;
    for (size_t i = 0; i < failure_code_count; ++i) {
      const auto n = unaccepted_by_.by_code[i];
      if (n == 0) continue;
      if (!causes.empty()) causes += ", ";
      causes += std::to_string(n) + " " + to_string(static_cast<failure_code>(i));
    }
    stall("stalled: no update accepted in the last " + std::to_string(unaccepted_) +
              " task outcomes (" + causes + ")",
          step);
    return;
  }
  const uint32_t slots = this->slots();
  while (!finished_ && tasks_.size() < slots) {
    std::vector<client_id> picked;
    try {
      picked = parts_.pick->sample(1, static_cast<int32_t>(buffer_.version()), [&](client_id id) {
        return busy_clients_.count(id) > 0 || !edges_.reachable(id) ||
               (conditions_ && !conditions_->available(id)) ||
               (online_ && !online_->online(id, sim_now_));
      });
    } catch (const std::invalid_argument&) {
      break;  // every client is busy or unreachable
    }
    if (picked.empty()) break;
    dispatch(picked.front(), step);
  }
}

double async_loop::duration_of(uint32_t id) const {
  if (!simulated()) return 0;
  auto profile = make_device_profile(sc_.devices, sc_.seed, id);
  const double transfer = conditions_ ? conditions_->transfer_factor(id) : 1.0;
  const double compute = conditions_ ? conditions_->compute_factor(id) : 1.0;
  return task_duration(sc_.devices, profile, parts_.registry->num_samples(id), sc_.training.epochs,
                       model_->size() * sizeof(float), transfer, compute);
}

void async_loop::dispatch(uint32_t id, async_step& step) {
  const auto target = edges_.edge_for(id);
  if (!target) return;  // fill's sampler skips unreachable clients
  const uint32_t edge = *target;
  if (edges_.rerouted(id, edge)) ++rerouted_;
  const uint64_t seq = next_seq_++;
  const uint32_t samples = parts_.registry->num_samples(id);
  double finish = 0;
  if (simulated()) {
    auto profile = make_device_profile(sc_.devices, sc_.seed, id);
    const double transfer = conditions_ ? conditions_->transfer_factor(id) : 1.0;
    const double compute = conditions_ ? conditions_->compute_factor(id) : 1.0;
    finish = sim_now_ +
             task_duration(sc_.devices, profile, samples, sc_.training.epochs,
                           model_->size() * sizeof(float), transfer, compute) +
             edges_.extra_latency_s(id, edge);
  }
  async_task t;
  t.seq = seq;
  t.edge = edge;
  t.client = id;
  t.base_version = buffer_.version();
  t.task_seed = stream_key(sc_.seed, rng_tag::shuffle, seq, id);
  t.finish = finish;
  t.model = model_;
  t.group_params = sc_.async.delta == delta_rule::current;
  // Tasks queue at the edge behind at most `concurrency` others.
  const double waves =
      std::ceil(static_cast<double>(peak_concurrency_) / static_cast<double>(edge_capacity_));
  t.timeout_s = sc_.training.timeout_s * std::max(1.0, waves) + 30.0;
  idle_since_ = -1;
  if (auto off = online_ ? online_->offline_at(id, sim_now_, finish) : std::nullopt) {
    // The client goes offline before its task would finish: never sent; it fails now and
    // holds its slot until its offline time (when its release frees it).
    t.finish = *off;
    tasks_.emplace(seq, task{t, samples, true, edges_.incarnation(edge), true});
    busy_clients_.insert(id);
    releases_.dispatch(seq, *off);
    releases_.cancel(seq);
    ++in_flight_by_edge_[edge];
    ++went_offline_;
    fail(edge, id, failure_code::unavailable,
         "went offline at t = " + schema::format_number(*off) +
             " s, before its task would finish at " + schema::format_number(finish) + " s");
    return;
  }
  if (sc_.async.edge == edge_mode::preaggregate) {
    auto& og = open_groups_[edge];
    if (og.id != 0 && og.base != buffer_.version()) close_group(edge, step);
    if (og.id == 0) {
      og = open_group{next_group_++, buffer_.version(), 0};
      groups_.emplace(og.id, group_record{edge, og.base, {}, {}});
    }
    t.group = og.id;
    ++og.size;
    groups_.at(t.group).members.emplace_back(seq, samples);
  }
  const uint64_t group = t.group;
  auto& stored =
      tasks_.emplace(seq, task{t, samples, false, edges_.incarnation(edge)}).first->second;
  busy_clients_.insert(id);
  if (simulated()) releases_.dispatch(seq, finish);
  ++in_flight_by_edge_[edge];
  count_dispatch(stored.sent);
  step.send.push_back(stored.sent);
  if (group != 0 && open_groups_[edge].size >= sc_.async.preaggregate) close_group(edge, step);
}

// -- results -------------------------------------------------------------------------------

async_step async_loop::answered(uint64_t seq, uint32_t attempt, uint32_t client,
                                task_outcome outcome) {
  async_step step;
  auto* t = current(seq, attempt);
  if (!t) return step;
  t->arrived = true;
  if (auto why = misfit(*t, client, outcome)) {
    refuse(*t, why->first, why->second, step);
    end_without_outcome(*t, step);
    settle(step);
    return step;
  }
  if (simulated()) {
    releases_.arrive(seq, std::move(outcome));
  } else {
    process(seq, std::move(outcome), step);
  }
  settle(step);
  return step;
}

async_step async_loop::refused(uint64_t seq, uint32_t attempt, answer_refusal why,
                               const std::string& detail) {
  async_step step;
  auto* t = current(seq, attempt);
  if (!t) return step;
  t->arrived = true;
  refuse(*t, why, detail, step);
  end_without_outcome(*t, step);
  settle(step);
  return step;
}

std::optional<std::pair<answer_refusal, std::string>> async_loop::misfit(
    const task& t, uint32_t client, const task_outcome& outcome) const {
  using result = std::pair<answer_refusal, std::string>;
  if (client != t.sent.client)
    return result{answer_refusal::wrong_client, "answered for client " + std::to_string(client) +
                                                    ", the task was " +
                                                    std::to_string(t.sent.client) + "'s"};
  const bool grouped = t.sent.group != 0;
  const auto* u = std::get_if<task_update>(&outcome);
  if (grouped && u)
    return result{answer_refusal::wrong_kind, "an update for a pre-aggregated task"};
  if (!grouped && !u)
    return result{answer_refusal::wrong_kind, std::holds_alternative<task_held>(outcome)
                                                  ? "held for a forwarded task"
                                                  : "a group aggregate for a forwarded task"};
  if (!u) return std::nullopt;  // a group's answers are checked against the group's record
  const size_t size = u->params ? u->params->size() : 0;
  if (size != model_->size())
    return result{
        answer_refusal::wrong_dimension,
        "has " + std::to_string(size) + " parameters, expected " + std::to_string(model_->size())};
  if (!std::isfinite(u->loss) ||
      !std::all_of(u->params->begin(), u->params->end(), [](float v) { return std::isfinite(v); }))
    return result{answer_refusal::non_finite, "an update with non-finite values or loss"};
  if (u->num_samples != t.num_samples)
    return result{answer_refusal::wrong_samples, "claims " + std::to_string(u->num_samples) +
                                                     " samples, the registry says " +
                                                     std::to_string(t.num_samples)};
  return std::nullopt;
}

void async_loop::refuse(const task& t, answer_refusal why, const std::string& detail,
                        async_step& step) {
  count_answer_refusal(why);
  fail(t.sent.edge, t.sent.client, failure_code::invalid_update, detail);
  step.refused.push_back(refused_answer{
      t.sent.edge, "edge " + std::to_string(t.sent.edge) + ", task " + std::to_string(t.sent.seq) +
                       ", client " + std::to_string(t.sent.client) + ": " + detail + " (" +
                       to_string(why) + ")"});
}

void async_loop::end_without_outcome(task& t, async_step& step) {
  if (simulated()) {
    t.cancelled = true;
    releases_.cancel(t.sent.seq);
  } else {
    process(t.sent.seq, std::nullopt, step);
  }
}

async_step async_loop::failed(uint64_t seq, uint32_t attempt, failure_code code,
                              const std::string& detail) {
  async_step step;
  auto* t = current(seq, attempt);
  if (!t) return step;
  t->arrived = true;
  fail(t->sent.edge, t->sent.client, code, "edge " + std::to_string(t->sent.edge) + ": " + detail);
  t->cancelled = true;
  if (simulated())
    releases_.cancel(seq);
  else
    process(seq, std::nullopt, step);
  settle(step);
  return step;
}

void async_loop::settle(async_step& step) {
  if (simulated()) {
    drain(step);
  } else {
    fire_due(step);
    fill(step);
    close_stalled_group(step);
  }
  end_if_stuck(step);
}

// Releases finished tasks in simulated-finish order (as soon as no task still running could
// finish earlier), refilling each released slot at once (at the release's simulated time), so
// dispatch times and base versions follow the release order alone, not real arrival timing.
void async_loop::drain(async_step& step) {
  while (!finished_) {
    if (fire_due(step)) fill(step);  // at the event's time
    auto item = releases_.pop_ready();
    if (!item) {
      if (!tasks_.empty()) break;  // waiting for a running task
      fill(step);
      if (!tasks_.empty()) continue;
      // Nothing in flight and no client to dispatch: the clock jumps to the next event or the
      // next time a client may come online.
      auto next = next_chance(step);
      if (!next) break;
      sim_now_ = std::max(sim_now_, *next);
      continue;
    }
    // The slot of a task withdrawn by an event (its client left): nothing happens then.
    if (tasks_.count(item->seq) == 0) continue;
    sim_now_ = std::max(sim_now_, item->finish);
    process(item->seq, std::move(item->payload), step);
    fill(step);
  }
  fill(step);
  close_stalled_group(step);
}

void async_loop::release_edge(const task& t) {
  // A lost edge's count was cleared with it: only a task of its current incarnation counts.
  if (t.incarnation == edges_.incarnation(t.sent.edge)) edges_.release(t.sent.edge);
}

void async_loop::process(uint64_t seq, std::optional<task_outcome> outcome, async_step& step) {
  auto it = tasks_.find(seq);
  if (it == tasks_.end()) return;
  const task t = std::move(it->second);
  release_edge(t);
  busy_clients_.erase(t.sent.client);
  --in_flight_by_edge_[t.sent.edge];
  tasks_.erase(it);
  if (finished_ || !outcome) return;  // a failure was counted when it arrived
  const uint32_t client = t.sent.client;
  const uint64_t group = t.sent.group;
  if (auto* u = std::get_if<task_update>(&*outcome)) {
    update_bytes_ += u->update_bytes;
    ++updates_up_;
    // Its kind, size, values and sample count were checked on arrival (misfit). The base
    // version is the task's own, not the edge's word for it.
    fedbuff_update fu{u->params->data(),   u->params->size(), t.num_samples,
                      t.sent.base_version, u->loss,           client};
    const double bound = buffer_.norm_bound();  // before a step may move it
    auto r = buffer_.offer(fu);
    if (r == offer_result::folded || r == offer_result::aggregated) {
      ++load_[t.sent.edge].updates;
      unaccepted_ = 0;
      unaccepted_by_.clear();
    }
    if (r == offer_result::rejected)
      fail(t.sent.edge, client, failure_code::invalid_update,
           "rejected update (non-finite or out of range)");
    else if (r == offer_result::out_of_bound)
      fail(t.sent.edge, client, failure_code::invalid_update,
           "rejected update: norm above the bound " + std::to_string(bound));
    else if (r == offer_result::stale) {
      failures_.add(failure_code::stale);
      ++unaccepted_;
      unaccepted_by_.add(failure_code::stale);
    } else
      parts_.pick->observe(client, client_outcome{u->loss, t.num_samples, duration_of(client)});
  } else if (std::holds_alternative<task_held>(*outcome)) {
    auto g = groups_.find(group);
    if (group != 0 && t.incarnation != edges_.incarnation(t.sent.edge)) {
      // Its update travels in its group's aggregate, and that edge is already gone.
      fail(t.sent.edge, client, failure_code::edge_lost,
           "edge " + std::to_string(t.sent.edge) + " lost before its group's aggregate");
    } else if (g == groups_.end()) {
      refuse(t, answer_refusal::group_mismatch, "held for no open group", step);
    } else {
      g->second.held.push_back(client);
    }
  } else {
    auto& agg = std::get<task_group>(*outcome);
    auto g = groups_.find(group);
    if (group != 0 && t.incarnation != edges_.incarnation(t.sent.edge)) {
      // Held back (simulated clock) while its edge was lost: the group went with the edge, and
      // its members that had not answered were resent apart.
      fail(t.sent.edge, client, failure_code::edge_lost,
           "edge " + std::to_string(t.sent.edge) + " lost before its group's aggregate");
    } else if (g == groups_.end()) {
      refuse(t, answer_refusal::group_mismatch, "an aggregate for no open group", step);
    } else {
      auto rec = std::move(g->second);
      groups_.erase(g);
      // Its members must be tasks dispatched into this group, each once; the aggregate's
      // weight must be their sample counts as the registry has them.
      uint64_t expected_weight = 0;
      bool members_ok = !agg.members.empty() && agg.members.size() <= rec.members.size();
      std::vector<uint64_t> seen;
      for (uint64_t m : agg.members) {
        auto r = std::find_if(rec.members.begin(), rec.members.end(),
                              [m](const auto& x) { return x.first == m; });
        if (r == rec.members.end() || std::find(seen.begin(), seen.end(), m) != seen.end()) {
          members_ok = false;
          break;
        }
        seen.push_back(m);
        expected_weight += r->second;
      }
      auto acc = weighted_accumulator::deserialize(agg.aggregate.data(), agg.aggregate.size());
      const auto count = static_cast<uint32_t>(agg.members.size());
      if (!members_ok || !acc || acc->count() != count ||
          acc->weight() != static_cast<double>(expected_weight)) {
        refuse(
            t, answer_refusal::group_mismatch,
            "group aggregate that does not match its members (" + std::to_string(count) + " named)",
            step);
        // The members that answered held had their updates in it. (Those still to answer
        // stay in flight: their held answer finds no group and counts the same way.)
        for (uint32_t c : rec.held)
          fail(rec.edge, c, failure_code::invalid_update, "held for a refused group aggregate");
      } else {
        update_bytes_ += agg.update_bytes;
        updates_up_ += count;
        // Members whose held answer has not come yet are done too (their updates are in the
        // aggregate): free their slots now, and never resend them if the edge is lost. (With
        // the simulated clock they were all released before this, the latest-finishing one.)
        if (!simulated()) {
          for (uint64_t m : agg.members) {
            auto mt = tasks_.find(m);
            if (m != seq && mt != tasks_.end() && mt->second.sent.group == group) {
              release_edge(mt->second);
              busy_clients_.erase(mt->second.sent.client);
              --in_flight_by_edge_[mt->second.sent.edge];
              tasks_.erase(mt);
            }
          }
        }
        auto r = buffer_.offer_group(*acc, rec.base, count);
        if (r == offer_result::folded || r == offer_result::aggregated) {
          load_[rec.edge].updates += count;
          unaccepted_ = 0;
          unaccepted_by_.clear();
        }
        if (r == offer_result::rejected) {
          // Every member's update is lost with it, as the buffer counts them (rejected_updates).
          fail(t.sent.edge, client, failure_code::invalid_update, "rejected group aggregate");
          failures_.add(failure_code::invalid_update, count - 1);
          unaccepted_ += count - 1;
          unaccepted_by_.add(failure_code::invalid_update, count - 1);
          load_[rec.edge].failed += count - 1;
        } else if (r == offer_result::stale) {
          failures_.add(failure_code::stale, count);
          unaccepted_ += count;
          unaccepted_by_.add(failure_code::stale, count);
        }
      }
    }
  }
  take_steps(step);
}

void async_loop::count_dispatch(const async_task& t) {
  auto& load = load_[t.edge];
  ++load.tasks;
  // Its simulated time from now to its finish (a resent task keeps its finish time).
  if (simulated()) load.busy_s += std::max(0.0, t.finish - sim_now_);
}

async_gauges async_loop::gauges() const {
  async_gauges g;
  g.in_flight = static_cast<uint32_t>(tasks_.size());
  g.held = static_cast<uint32_t>(releases_.held());
  std::unordered_set<const void*> versions;
  for (const auto& [seq, t] : tasks_)
    if (t.sent.model) versions.insert(t.sent.model.get());
  g.model_versions = static_cast<uint32_t>(versions.size());
  g.groups = static_cast<uint32_t>(groups_.size());
  g.busy_clients = static_cast<uint32_t>(busy_clients_.size());
  return g;
}

// Reports the server steps the buffer took; ends the run after `async.aggregations`.
void async_loop::take_steps(async_step& step) {
  auto records = buffer_.take_records();
  for (size_t i = 0; i < records.size(); ++i) {
    auto& s = records[i];
    if (finished_) break;
    ++steps_done_;
    model_ = make_snapshot(buffer_.model());
    round_record rec;
    rec.async = true;
    rec.round = steps_done_;
    rec.model_version = s.version;
    rec.clients = s.updates;
    rec.failures_by = failures_;
    rec.failures = failures_.total();
    rec.edges_lost = edges_lost_;
    rec.edges_rejoined = edges_rejoined_;
    rec.rerouted = rerouted_;
    rec.update_bytes_up = update_bytes_;
    rec.updates_up = updates_up_;
    rec.edges_alive = static_cast<uint32_t>(edges_.alive_edges().size());
    rec.edge_load = std::exchange(load_, std::vector<edge_load_counts>(edges_.size()));
    for (size_t e = 0; e < rec.edge_load.size(); ++e)
      rec.edge_load[e].in_flight = in_flight_by_edge_[e];
    rec.failure_reasons = std::move(details_);
    rec.events = std::move(events_);
    events_.clear();
    rec.mean_loss = s.mean_loss;
    rec.wall_s = elapsed_since(step_started_);
    rec.clients_per_s = rec.wall_s > 0 ? rec.clients / rec.wall_s : 0.0;
    rec.sim_time_s = sim_now_;
    rec.sim_round_s = sim_now_ - sim_at_last_step_;
    rec.stale_discarded = s.stale_discarded;
    rec.staleness_histogram = s.staleness_histogram;
    rec.mean_decay = s.mean_decay;
    rec.norm_bound = s.norm_bound;
    rec.norm_clipped = s.norm_clipped;
    rec.norm_rejected = s.norm_rejected;
    if (online_ || pace_) {
      rec.online_fraction = online_ ? online_->online_fraction(sim_now_) : 1.0;
      rec.went_offline = went_offline_;
    }
    if (pace_) {
      // The factor this step ran with; then f̂ learns from the step's outcomes (stale discards
      // left out).
      rec.over_select_factor = pace_->factor();
      // (failure_counts::total() leaves stale discards out.)
      const uint32_t failed = failures_.total();
      pace_->observe(s.updates + failed + failures_.of(failure_code::stale), failed);
    }
    if (sc_.selection.adaptive_size.enabled) {
      // The concurrency this step ran with, and the next one: moved only when the spread
      // describes every update the step applied (a group's members are not measured).
      rec.sample_size = concurrency_;
      if (s.updates > 0 && s.spread_updates == s.updates) {
        rec.rel_var = s.rel_var;
        concurrency_ = next_sample_size(concurrency_, s.rel_var, sc_.selection.adaptive_size);
      }
      rec.next_sample_size = concurrency_;
    }
    rec.gauges = gauges();
    totals_.clients_trained += s.updates;
    totals_.failures.merge(failures_);
    totals_.final_loss = s.mean_loss;
    failures_.clear();
    details_.clear();
    went_offline_ = 0;
    edges_lost_ = edges_rejoined_ = rerouted_ = 0;
    update_bytes_ = 0;
    updates_up_ = 0;
    sim_at_last_step_ = sim_now_;
    step_started_ = std::chrono::steady_clock::now();
    close_all_groups(step);
    // A scripted server crash due before the next step: listed in this step's record. Only
    // after the last step this event took (the buffer's state is that step's).
    std::optional<scenario_event> crash;
    if (steps_done_ < sc_.async.aggregations && i + 1 == records.size())
      if ((crash = timeline_.take_crash(steps_done_ + 1, sim_now_)))
        rec.events.push_back(fired(*crash, sim_now_, 0));
    step.steps.push_back(finished_round{std::move(rec), model_});
    if (steps_done_ >= sc_.async.aggregations) {
      finished_ = true;
      step.finished = true;
    }
    copy_buffer_totals();
    if (checkpoints_ &&
        (finished_ || crash || (checkpoint_every_ > 0 && steps_done_ % checkpoint_every_ == 0)))
      step.checkpoint = std::make_shared<loop_checkpoint>(
          loop_checkpoint{steps_done_, finished_, encode(save_state()), {}});
    if (crash) {
      // The server goes down with the checkpoint just taken: nothing more is dispatched or
      // folded (the tasks in flight are in the checkpoint and resent by the resumed server).
      finished_ = halted_ = true;
      step.finished = true;
    }
  }
  copy_buffer_totals();
}

void async_loop::copy_buffer_totals() {
  const auto& stats = buffer_.stats();
  totals_.total_updates = stats.total_updates;
  totals_.stale_updates = stats.stale_updates;
  totals_.rejected_updates = stats.rejected_updates;
  totals_.norm_clipped = stats.norm_clipped;
  totals_.norm_rejected = stats.norm_rejected;
}

// -- lost and returning edges -------------------------------------------------------------

async_step async_loop::edge_lost(uint32_t e) {
  async_step step;
  if (finished_ || e >= open_groups_.size()) return step;
  lose_edge(e, step);
  settle(step);
  return step;
}

void async_loop::lose_edge(uint32_t e, async_step& step) {
  ++edges_lost_;
  open_groups_[e] = open_group{};  // its groups went with it
  // Members that answered "held" for a group whose aggregate never came: their updates went
  // with the edge. (Their slots were freed on the held answer; they are not resent.)
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second.edge != e) {
      ++it;
      continue;
    }
    for (uint32_t c : it->second.held)
      fail(e, c, failure_code::edge_lost,
           "edge " + std::to_string(e) + " lost before its group's aggregate");
    it = groups_.erase(it);
  }
  std::vector<uint64_t> orphaned;
  for (auto& [seq, t] : tasks_)
    if (t.sent.edge == e && !t.arrived) orphaned.push_back(seq);
  std::sort(orphaned.begin(), orphaned.end());
  for (auto seq : orphaned) {
    auto& t = tasks_.at(seq);
    ++t.sent.attempt;
    if (auto target = edges_.edge_for(t.sent.client)) {
      // Resent as a forwarded update: the group it belonged to is gone with the edge.
      --in_flight_by_edge_[t.sent.edge];
      ++in_flight_by_edge_[*target];
      t.sent.edge = *target;
      t.incarnation = edges_.incarnation(*target);
      t.sent.group = 0;
      ++rerouted_;
      ++load_[e].failed;  // resent: it ends there without an update from e
      count_dispatch(t.sent);
      step.send.push_back(t.sent);
      continue;
    }
    t.arrived = true;
    t.cancelled = true;
    fail(e, t.sent.client, failure_code::edge_lost, "edge " + std::to_string(e) + " lost");
    if (simulated())
      releases_.cancel(seq);
    else
      process(seq, std::nullopt, step);
  }
}

bool async_loop::stop() {
  if (finished_) return false;
  if (checkpoints_ && checkpoint_every_ > 0)
    stop_checkpoint_ = std::make_shared<loop_checkpoint>(
        loop_checkpoint{steps_done_, false, encode(save_state()), {}});
  finished_ = true;
  stopped_ = true;
  return true;
}

async_step async_loop::edge_rejoined(uint32_t) {
  async_step step;
  if (finished_) return step;
  ++edges_rejoined_;
  fill(step);
  close_stalled_group(step);
  return step;
}

}  // namespace fedactor

namespace fedactor {

// -- scripted events ----------------------------------------------------------------------

bool async_loop::fire_due(async_step& step) {
  if (timeline_.empty() || finished_) return false;
  bool any = false;
  for (const auto& e : timeline_.take_counted(steps_done_ + 1)) {
    fire(e, step);
    any = true;
  }
  if (simulated()) {
    // Every task in flight finishes at or after the next release: events up to it come first.
    double until = sim_now_;
    if (auto next = releases_.next_finish()) until = std::max(until, *next);
    for (const auto& e : timeline_.take_until(until)) {
      sim_now_ = std::max(sim_now_, e.at);
      fire(e, step);
      any = true;
    }
  }
  return any;
}

void async_loop::fire(const scenario_event& e, async_step& step) {
  int64_t changed = 0;
  if (e.kind == event_kind::edge_down) {
    if (edges_.lose(e.edge)) {
      changed = 1;
      lose_edge(e.edge, step);
    }
  } else if (e.kind == event_kind::edge_up) {
    if (edges_.rejoin(e.edge)) {
      changed = 1;
      ++edges_rejoined_;
    }
  } else {
    changed = conditions_->apply(e);
    if (client_conditions::takes_clients_away(e)) withdraw_unavailable(e);
  }
  events_.push_back(fired(e, sim_now_, changed));
}

void async_loop::withdraw_unavailable(const scenario_event& e) {
  const std::string why = e.kind == event_kind::region_down
                              ? "region " + std::to_string(e.region) + " went down"
                              : std::string("left the federation");
  std::vector<uint64_t> gone;
  for (const auto& [seq, t] : tasks_)
    if (!conditions_->available(t.sent.client)) gone.push_back(seq);
  std::sort(gone.begin(), gone.end());
  for (uint64_t seq : gone) {
    auto it = tasks_.find(seq);
    fail(it->second.sent.edge, it->second.sent.client, failure_code::unavailable, why);
    // Its release (a result already held, or the cancelled slot) finds no task and is skipped.
    if (simulated()) releases_.cancel(seq);
    release_edge(it->second);
    busy_clients_.erase(it->second.sent.client);
    --in_flight_by_edge_[it->second.sent.edge];
    tasks_.erase(it);
  }
}

std::optional<double> async_loop::next_chance(async_step& step) {
  auto next = timeline_.next_at();
  // Every edge lost: wait for one to come back (a restarted process rejoins), as without
  // availability.
  if (!online_ || edges_.alive_edges().empty()) return next;
  if (idle_since_ < 0) idle_since_ = sim_now_;
  const auto& a = sc_.population.availability;
  const auto change = online_->next_change(sim_now_);
  if (!change) {
    if (!next)
      stall("stalled: no client comes online again after t = " + schema::format_number(sim_now_) +
                " s (population.availability.trace has no later interval)",
            step);
    return next;
  }
  if (a.model == availability_model::diurnal && *change - idle_since_ > 2 * a.period_s) {
    if (!next)
      stall("stalled: no client online to dispatch from t = " + schema::format_number(idle_since_) +
                " s for two periods of population.availability (" +
                schema::format_number(2 * a.period_s) + " s)",
            step);
    return next;
  }
  return next ? std::min(*next, *change) : *change;
}

void async_loop::end_if_stuck(async_step& step) {
  if (finished_ || !conditions_ || !tasks_.empty() || timeline_.next_at()) return;
  // Clients that are available but behind a lost edge may come back with it (a restarted
  // process rejoins): wait, as without events.
  if (conditions_->available_count() > 0 && edges_.alive_edges().size() < edges_.size()) return;
  finished_ = true;
  step.finished = true;
}

}  // namespace fedactor
