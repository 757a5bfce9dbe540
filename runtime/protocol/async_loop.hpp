#pragma once

// Asynchronous federated training (FedBuff), actor-free — FLSim's recipe: a result arrives,
// its staleness is measured against the version the task started from, it is weighted and
// folded into the buffer, and the server optimizer steps once `buffer_size` updates are in.
// The loop keeps `async.concurrency` tasks in flight; a finished task's slot is refilled by
// the sampler at once. Under the simulated clock, results are released in simulated-finish
// order (runtime/timing/release_queue.hpp), so staleness does not depend on real timing and
// the same seed gives the same model bytes.
//
// Every update the buffer accepts is reported to the sampler (sampler::observe: the client's
// loss, samples and its task's simulated duration), in processing order; pre-aggregated
// groups report nothing per client.
//
// The loop keeps its own record of every task (client, edge, base version, the client's sample
// count from the registry, the pre-aggregation group) and checks every answer against it:
// nothing an edge says about a task's base version, client or weight is believed. Answers
// that do not fit are refused, counted by reason (runtime/protocol/answer_refusals: the task's
// client counts as invalid_update) and listed in the step (async_step::refused) for the shell
// to name the peer. An answer carries no base version: the task's own is used. A refused
// answer changes the model exactly as a failure of that task would.
//
// Edges may pre-aggregate (async.edge_mode: preaggregate): the server decides group membership
// at dispatch (reproducible), an edge answers each member "held" and the last one (in
// simulated finish order) with the group's exact aggregate. Groups close when full, when the
// version moves on, and when the task every release waits for sits in an open group.
//
// With robust settings (scenario section robust, docs/robustness.md) the buffer holds each
// forwarded update to the norm bound and, with a rule other than mean, holds the buffer's
// updates for the rule (runtime/math/fedbuff.hpp); a rejected one counts as invalid_update,
// and each step's record carries the bound and its counts.
//
// With selection.adaptive_size (forward mode) the concurrency adapts after every server step
// from the relative variance of the updates that step applied, by the sync rule
// (runtime/population/sample_size.hpp, docs/selection.md); each step's record carries it.
//
// With population.availability (simulated clock) the sampler picks only clients online at
// the dispatch time; a client that goes offline before its task would finish is known then
// (the model is deterministic): its task is never sent, counts as failed (unavailable, and in
// the step's went_offline) when dispatched, and holds its slot until the client's offline
// time, as a server waits for a device that drops. When nothing is in flight and nobody can be
// dispatched the clock jumps to the next time a client may come online; a run in which nobody
// comes online again (a trace that ends) or for two diurnal periods ends as stalled.
// With selection.pace the loop keeps ceil(concurrency · min(max_factor, 1 / (1 − f̂))) tasks
// in flight, f̂ the EWMA (runtime/population/pace_steering.hpp) of each step's failure rate:
// failures other than stale over the task outcomes since the previous step (stale discards are
// left out: dispatching more raises staleness, which must not ask for more still).
//
// Driven by events (answered, failed, edge lost / back); each returns what the shell must do:
// tasks to send, groups to close, records of server steps, whether the run is over.
//
// Scripted events (sc.events) fire at step boundaries (`step: n` once step n − 1 has been
// taken, before anything else happens; `step: 1` at the start) and, under the simulated
// clock, as simulated time passes: an `at` event fires before the release of any task that
// finishes at or after its time (when nothing is in flight, the clock jumps to it). edge_down
// loses the edge as a lost process would (its tasks go to survivors or fail; its answers to
// them are ignored); region_down and clients_leave fail the tasks in flight of the clients they
// take away (failure_code::unavailable, even an answer already held for release) and the
// sampler skips those clients; bandwidth and compute scale the durations of tasks dispatched
// after them. Each fired event is listed in the record of the step it fired in. A run in which
// no client can be dispatched and no `at` event is left ends early.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "runtime/math/fedbuff.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/online_model.hpp"
#include "runtime/population/pace_steering.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/protocol/answer_refusals.hpp"
#include "runtime/protocol/client_conditions.hpp"
#include "runtime/protocol/edge_set.hpp"
#include "runtime/protocol/event_timeline.hpp"
#include "runtime/protocol/loop_checkpoint.hpp"
#include "runtime/protocol/model_snapshot.hpp"
#include "runtime/protocol/run_totals.hpp"
#include "runtime/protocol/sync_loop.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/server_optimizer.hpp"
#include "runtime/strategy/staleness_weight.hpp"
#include "runtime/timing/release_queue.hpp"

namespace fedactor {

// One client task to send to an edge.
struct async_task {
  uint64_t seq = 0;      // dispatch number, unique per run
  uint32_t attempt = 0;  // grows when the task is resent (its edge was lost)
  uint32_t edge = 0;
  uint32_t client = 0;
  uint64_t base_version = 0;
  uint64_t task_seed = 0;
  double finish = 0;          // simulated finish time (0 under the real clock)
  model_snapshot model;       // the model at base_version
  uint64_t group = 0;         // 0 = forward the update; else its pre-aggregation group
  bool group_params = false;  // the group sums n·params (delta rule current), else n·Δ
  double timeout_s = 0;       // the request's deadline (queueing at the edge included)
};

// A group an edge must close: `size` members, no more will join.
struct group_to_close {
  uint32_t edge = 0;
  uint64_t group = 0;
  uint32_t size = 0;
};

// What an edge answered for a task.
struct task_update {  // forward mode: the client's model after training
  uint32_t num_samples = 0;
  double loss = 0;
  model_snapshot params;
  uint64_t update_bytes = 0;  // the update as it reached the edge (compressed or floats)
};
struct task_held {};  // pre-aggregation: the update is in its group's aggregate
struct task_group {   // pre-aggregation: the group's aggregate, carried by its last member
  std::vector<char> aggregate;    // serialized weighted_accumulator
  std::vector<uint64_t> members;  // seqs folded into it, this one included
  uint64_t update_bytes = 0;      // its members' updates as they reached the edge
};
using task_outcome = std::variant<task_update, task_held, task_group>;

// An edge's answer the loop refused: which edge sent it, and why (one line, task and reason).
struct refused_answer {
  uint32_t edge = 0;
  std::string what;
};

struct async_step {
  std::vector<async_task> send;
  std::vector<refused_answer> refused;
  std::vector<group_to_close> close;
  std::vector<finished_round> steps;  // records of server steps (async = true)
  bool finished = false;
  // A checkpoint fell due at one of `steps` (the latest one if several): the state right
  // after that server step, before anything else in this event.
  std::shared_ptr<loop_checkpoint> checkpoint;
};

class async_loop {
 public:
  struct parts {
    std::shared_ptr<client_registry> registry;
    std::unique_ptr<sampler> pick;
    std::unique_ptr<server_optimizer> optimizer;
    staleness_weight weight;  // empty: from async.decay
    size_t trainable = 0;     // values the optimizer steps (the parameters); 0 = all
  };

  // `edges` must outlive the loop. edge_capacity: live clients per edge (sizes timeouts).
  // Throws std::invalid_argument for a missing part, an empty model or a bad async config.
  async_loop(scenario sc, parts p, edge_set& edges, std::vector<float> initial_model,
             uint32_t edge_capacity);

  // Fills the concurrency slots (after load_state: first resends the tasks that were in flight).
  async_step start();

  // Checkpoints (docs/checkpoints.md): from now on a step carries the loop's state right after
  // every `every`-th server step (every 0: none) and after the last one; with every > 0 also a
  // fresh run's start (step 0: start()'s step), and a scripted server crash's point. `mid_run`
  // false: after the last one only (mid_run_checkpoint_limit).
  void checkpoint_every(uint32_t every, bool mid_run = true);
  // The state now: right after a server step (a step's checkpoint is taken there) or between
  // two messages (a stop's checkpoint).
  async_loop_state save_state() const;
  // Continues from `s` (before start()): buffer, versions, tasks in flight (resent by start()
  // with their numbers, seeds and base models; failed ones only wait for their release),
  // sampler and registry. Throws checkpoint_error naming what does not fit this loop.
  void load_state(const async_loop_state& s);

  // The answer to task `seq`'s attempt `attempt` from the client `client`. Answers to an
  // earlier attempt, or for a task that is not in flight, change nothing.
  async_step answered(uint64_t seq, uint32_t attempt, uint32_t client, task_outcome outcome);
  // The answer to task `seq`'s attempt `attempt` was refused by the shell before it could be
  // read as an outcome (it names another task: unknown_task): counted, and the task fails as
  // invalid_update. Like answered(), nothing for an answer to a task no longer in flight.
  async_step refused(uint64_t seq, uint32_t attempt, answer_refusal why, const std::string& detail);
  // Task `seq`'s attempt is in flight and waits for its answer (answered, refused and failed
  // act on it).
  bool awaiting(uint64_t seq, uint32_t attempt) const;
  // Task `seq`'s attempt failed at its edge or timed out.
  async_step failed(uint64_t seq, uint32_t attempt, failure_code code, const std::string& detail);
  // The edge set has marked `e` lost: its tasks are resent to survivors (reroute) or fail.
  async_step edge_lost(uint32_t e);
  async_step edge_rejoined(uint32_t e);
  // Ends the run now (a stop: a signal, federation::stop()): nothing more is dispatched or
  // folded; the tasks in flight are abandoned (their records stay, in_flight() counts them,
  // their answers change nothing) and updates buffered since the last server step are
  // dropped: the model stays the last step's. False when the run was already over. With
  // periodic checkpoints (every > 0, mid_run) a stop leaves a checkpoint of that point
  // (take_stop_checkpoint): its buffer holds the updates folded since the last step and its
  // tasks in flight are resent on resume, so no accepted update is lost or applied twice.
  bool stop();
  // The checkpoint the last stop() left (once; null when it left none).
  std::shared_ptr<loop_checkpoint> take_stop_checkpoint() { return std::move(stop_checkpoint_); }

  bool finished() const { return finished_; }
  bool stopped() const { return stopped_; }
  // The run ended because it could not progress: stall_limit() task outcomes in a row (failures,
  // refused, rejected or stale updates) without one update accepted into the buffer — e.g. a
  // model broken by an attack whose every update is refused, or clients that all time out.
  // Without this bound an async run would dispatch for ever (a sync run ends after its rounds).
  // stall_reason() says what happened; the run ends like a stop (interrupted, stopped_by).
  bool stalled() const { return stalled_; }
  const std::string& stall_reason() const { return stall_reason_; }
  // 10 × max(peak concurrency, buffer size), at least 100.
  uint64_t stall_limit() const;
  // A scripted server_crash ended the run after steps_done() (with a checkpoint of that
  // point): the host resumes a new server from it (docs/fault-tolerance.md).
  bool halted() const { return halted_; }
  uint32_t steps_done() const { return steps_done_; }
  uint64_t version() const { return buffer_.version(); }
  model_snapshot model() const { return model_; }
  double sim_time() const { return sim_now_; }
  const run_totals& totals() const { return totals_; }
  const fedbuff_stats& buffer_stats() const { return buffer_.stats(); }
  size_t in_flight() const { return tasks_.size(); }
  // What the loop holds now (every step's record carries the value right after that step).
  async_gauges gauges() const;

 private:
  struct task {
    async_task sent;
    uint32_t num_samples = 0;  // from the registry: the weight the answer must carry
    bool arrived = false;      // answered or failed: nothing to resend
    uint32_t incarnation = 0;  // of its edge when sent
    bool cancelled = false;    // failed (simulated clock: waits for its release)
  };
  struct open_group {
    uint64_t id = 0;  // 0 = none open
    uint64_t base = 0;
    uint32_t size = 0;
  };
  struct group_record {
    uint32_t edge = 0;
    uint64_t base = 0;
    std::vector<std::pair<uint64_t, uint32_t>> members;  // (seq, samples) dispatched into it
    std::vector<uint32_t> held;  // clients whose held answer came before the aggregate
  };

  bool simulated() const { return sc_.clock == clock_kind::simulated; }
  void fill(async_step& step);
  void dispatch(uint32_t client, async_step& step);
  // The simulated duration of a task of `client` under the conditions now (0: real clock),
  // for the sampler's observe() when its update is accepted.
  double duration_of(uint32_t client) const;
  void close_group(uint32_t edge, async_step& step);
  void close_all_groups(async_step& step);
  void close_stalled_group(async_step& step);
  // A task is done (released in order under the simulated clock): folds it, or counts it.
  void process(uint64_t seq, std::optional<task_outcome> outcome, async_step& step);
  void drain(async_step& step);
  // After an event: release (simulated clock) or refill, and close a group everything waits for.
  void settle(async_step& step);
  void take_steps(async_step& step);
  // The buffer's counts into totals_ (updates folded, stale, rejected, the norm bound's).
  void copy_buffer_totals();
  // A task of `edge` for `client` failed: counted by code and in the edge's load.
  void fail(uint32_t edge, uint32_t client, failure_code code, const std::string& detail);
  // Task `t` goes out to its edge: counted in the edge's load (tasks, busy_s).
  void count_dispatch(const async_task& t);
  // Why an answer to `t` for `client` does not fit the task's record, if it does not (checked
  // on arrival: client, kind, size, finite values, sample count).
  std::optional<std::pair<answer_refusal, std::string>> misfit(const task& t, uint32_t client,
                                                               const task_outcome& outcome) const;
  // Counts a refused answer to `t`, lists it in `step` and fails its client (invalid_update).
  void refuse(const task& t, answer_refusal why, const std::string& detail, async_step& step);
  // The task `t` (arrived) ends without an outcome: cancelled for its release (simulated
  // clock) or processed now.
  void end_without_outcome(task& t, async_step& step);
  // The task `seq` if `attempt` is its current attempt and it is still in flight.
  task* current(uint64_t seq, uint32_t attempt);
  // Edge e, already marked lost in the edge set: its tasks are resent or fail.
  void lose_edge(uint32_t e, async_step& step);
  // Fires the step events due now and (simulated clock) the `at` events up to the next task
  // finish. Returns true if any fired.
  bool fire_due(async_step& step);
  void fire(const scenario_event& e, async_step& step);
  // Fails the tasks in flight whose client is no longer available and frees their slots (a
  // late answer, or a result held for release, is then ignored).
  void withdraw_unavailable(const scenario_event& e);
  // The task no longer loads its edge (region routing's counts, edge_set::release).
  void release_edge(const task& t);
  // Nothing in flight, nothing to dispatch and no `at` event left (and no lost edge that could
  // bring available clients back): ends the run.
  void end_if_stuck(async_step& step);
  // Ends the run as stalled, `reason` saying why.
  void stall(std::string reason, async_step& step);
  // Nothing in flight and nobody to dispatch: the next simulated time at which that may change
  // (a scripted `at` event, or a client coming online); nothing when none is left. Ends the run
  // as stalled when nobody comes online again.
  std::optional<double> next_chance(async_step& step);
  // Task slots: the concurrency, over-dispatched by pace steering.
  uint32_t slots() const;

  scenario sc_;
  parts parts_;
  edge_set& edges_;
  uint32_t edge_capacity_;
  fedbuff buffer_;
  model_snapshot model_;
  release_queue<task_outcome> releases_;
  std::unordered_map<uint64_t, task> tasks_;  // in flight, by seq
  std::unordered_set<uint32_t> busy_clients_;
  std::vector<open_group> open_groups_;                // per edge
  std::unordered_map<uint64_t, group_record> groups_;  // dispatched, aggregate not yet in
  uint64_t next_seq_ = 0;
  uint64_t next_group_ = 1;
  uint32_t steps_done_ = 0;
  bool finished_ = false;
  // Tasks kept in flight: async.concurrency, moved by selection.adaptive_size; and the most it
  // can be (sizes the edges' queues in the timeouts).
  uint32_t concurrency_ = 0;
  uint32_t peak_concurrency_ = 0;
  bool stopped_ = false;
  bool halted_ = false;
  bool stalled_ = false;
  std::string stall_reason_;
  // Task outcomes since the last update the buffer accepted (not checkpointed: a resumed run
  // counts from the resume).
  uint64_t unaccepted_ = 0;
  failure_counts unaccepted_by_;
  double sim_now_ = 0;
  double sim_at_last_step_ = 0;
  std::chrono::steady_clock::time_point step_started_;
  // Since the last step.
  failure_counts failures_;
  std::vector<std::string> details_;
  uint32_t edges_lost_ = 0;
  uint32_t edges_rejoined_ = 0;
  uint32_t rerouted_ = 0;
  // population.availability (null: always online) and selection.pace.
  std::unique_ptr<online_model> online_;
  std::optional<pace_steering> pace_;
  uint32_t went_offline_ = 0;  // since the last step
  // The simulated time since which nothing was in flight and nobody online could be
  // dispatched (-1: something was); not checkpointed.
  double idle_since_ = -1;
  // Update traffic since the last step (not in checkpoints: a resumed step counts from the
  // resume).
  uint64_t update_bytes_ = 0;
  uint32_t updates_up_ = 0;
  std::vector<fired_event> events_;
  run_totals totals_;
  bool checkpoints_ = false;
  uint32_t checkpoint_every_ = 0;
  std::vector<uint64_t> resend_;  // after load_state: tasks start() sends again
  bool loaded_ = false;           // load_state was called
  std::shared_ptr<loop_checkpoint> stop_checkpoint_;
  event_timeline timeline_;
  std::unique_ptr<client_conditions> conditions_;  // null without events
  // Per-edge load since the last step (in_flight apart), and the tasks in flight per edge
  // (tasks_ by sent.edge): each step's record gets both (round_record::edge_load).
  std::vector<edge_load_counts> load_;
  std::vector<uint32_t> in_flight_by_edge_;
};

}  // namespace fedactor
