#pragma once

// Synchronous federated rounds, actor-free (Flower's fit_round: configure -> fit -> aggregate
// -> server step). Each round: the sampler picks clients (k plus over-selection), under the
// simulated clock the first k to finish within the round deadline are kept, the edge set
// routes them to edges (sync_round batches), the edges' exact aggregates are merged, and the
// server optimizer turns the weighted mean Δ into the next model. The loop is driven by
// events (answers, failures, edge losses and returns) and answers each with what to do: the
// batches to send and the records of the rounds that ended. The server shell (actors/server)
// only turns those into messages.
//
// Deterministic: the same scenario, seed and answers give the same model bytes, whatever the
// order in which the edges answer (the aggregate is exact).
//
// Scripted events (sc.events) fire at round boundaries, before the round samples: first the
// `at` events whose time the simulated clock has reached (the round's start time), then the
// `round` events up to this round, in file order within each. edge_down / edge_up take the
// edge out of / back into the edge set (its clients are rerouted or fail as for a lost edge;
// counted in edges_lost / edges_rejoined); region and churn events change which clients may be
// sampled; bandwidth and compute events scale the durations of the tasks that follow. When
// the events leave no client available, the simulated clock jumps to the next `at` event. Each
// fired event is listed in the round's record.
//
// With population.availability (not always) the sampler picks only clients online at the
// round's start time, and a kept client whose online time ends before its simulated finish
// fails (failure_code::unavailable, counted in the round's failures); the record carries the
// online fraction and how many clients were wanted (docs/selection.md "Availability").
//
// After each round the sampler observes every client whose update was folded (its loss and
// samples from the edge's client reports, its simulated duration), in ascending id order.
// With selection.adaptive_size the round's size then follows the relative variance of the
// aggregate (runtime/population/sample_size.hpp, docs/selection.md).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/math/adaptive_clip.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/online_model.hpp"
#include "runtime/population/pace_steering.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/privacy/dp_fedavg.hpp"
#include "runtime/protocol/client_conditions.hpp"
#include "runtime/protocol/edge_set.hpp"
#include "runtime/protocol/event_timeline.hpp"
#include "runtime/protocol/loop_checkpoint.hpp"
#include "runtime/protocol/model_snapshot.hpp"
#include "runtime/protocol/run_totals.hpp"
#include "runtime/protocol/sync_round.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/robust_rule.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

// A batch to send: the clients, and what every batch of the round shares.
struct sync_task {
  edge_batch batch;
  uint32_t round = 0;
  uint64_t model_version = 0;
  model_snapshot model;
  model_snapshot aux;      // the algorithm's server state sent along (SCAFFOLD: c), or null
  double timeout_s = 0;    // the whole batch's deadline (waves of edge capacity × client timeout)
  double clip = 0;         // DP-FedAvg: the L2 bound the edge clips each update to; 0 = off
  robust_settings robust;  // the round's norm bound and rule (robust.*)
};

// A round that ended: its record and the model it produced.
struct finished_round {
  round_record record;
  model_snapshot model;
};

// What the shell does after an event.
struct sync_step {
  std::vector<sync_task> send;
  std::vector<finished_round> rounds;
  bool finished = false;  // the last round ended: the run is over
  // A checkpoint fell due at the end of one of `rounds` (the latest one if several): the
  // state after that round, before the next round's batches in `send` were formed.
  std::shared_ptr<loop_checkpoint> checkpoint;
  // Answers refused in this step, one line each (sync_round::take_refusals).
  std::vector<std::string> refused;
};

class sync_loop {
 public:
  struct parts {
    std::shared_ptr<client_registry> registry;
    std::unique_ptr<sampler> pick;
    // Steps the first `trainable` values (the parameters); the values after them (a model's
    // buffers, e.g. BatchNorm running statistics) take the plain weighted mean.
    std::unique_ptr<server_optimizer> optimizer;
    size_t trainable = 0;  // 0 = every value is a parameter
  };

  // `edges` must outlive the loop (the shell owns it and reports losses to both).
  // edge_capacity: live clients per edge (sizes the batch timeout). With strategy.client
  // scaffold the loop keeps the server control variate c (trainable values, 0 at first), sends
  // it with every batch and moves it by (|S|/N)·mean Δc_i after each round. With privacy.mode
  // dp_fedavg the loop runs DP-FedAvg (runtime/privacy/dp_fedavg.hpp).
  // Throws std::invalid_argument for a missing part, an empty model, or an optimizer whose
  // dim is not the trainable size.
  sync_loop(scenario sc, parts p, edge_set& edges, std::vector<float> initial_model,
            uint32_t edge_capacity);

  // Starts the first round.
  sync_step start();

  sync_step answered(uint64_t batch, edge_report rep);
  // An answer that could not be read as a report (sync_round::refused).
  sync_step refused(uint64_t batch, answer_refusal why, const std::string& detail);
  sync_step failed(uint64_t batch, failure_code code, const std::string& detail);
  // The edge set has marked `e` lost (or returned); the round in progress reacts.
  sync_step edge_lost(uint32_t e);
  void edge_rejoined(uint32_t e);
  // Ends the run now (a stop: a signal, federation::stop()): the round in progress is
  // abandoned — its batches' answers and failures are ignored from here on, its clients
  // count nowhere — and the model stays the last completed round's. False when the run was
  // already over (nothing changes). With periodic checkpoints (every > 0) a stop during a
  // round leaves a checkpoint of that point (take_stop_checkpoint): resumed from it, the
  // loop redoes the round with the same clients and goes on as the uninterrupted run would.
  bool stop();
  // The checkpoint the last stop() left (once; null when it left none).
  std::shared_ptr<loop_checkpoint> take_stop_checkpoint() { return std::move(stop_checkpoint_); }

  // Checkpoints (docs/checkpoints.md): from now on a step carries the loop's state after every
  // `every`-th round and after the last one (every 0: the last one only); with every > 0 also
  // a fresh run's start (round 0: start()'s step), and a scripted server crash's point.
  void checkpoint_every(uint32_t every);
  // The state after the last finished round; call between rounds (not while running()).
  sync_loop_state save_state() const;
  // Continues from `s` (before start()): model, version, rounds, simulated time, totals,
  // control variate, server optimizer, sampler and the registry's picks, and a stop's round
  // in progress. Throws checkpoint_error naming what does not fit this loop (model size,
  // optimizer, sampler, clients of the round in progress...).
  void load_state(const sync_loop_state& s);

  bool running() const { return round_.has_value(); }
  bool finished() const { return finished_; }
  bool stopped() const { return stopped_; }
  // A scripted server_crash ended the run after rounds_done() (with a checkpoint of that
  // point): the host resumes a new server from it (docs/fault-tolerance.md).
  bool halted() const { return halted_; }
  uint32_t rounds_done() const { return rounds_done_; }
  uint64_t version() const { return version_; }
  const model_snapshot& model() const { return model_; }
  // SCAFFOLD's server control variate (null for other client algorithms).
  const model_snapshot& control() const { return control_; }
  // DP-FedAvg's state (privacy.mode dp_fedavg; null otherwise): clip bound and accountant.
  const dp_fedavg* privacy() const { return dp_.get(); }
  double sim_time() const { return sim_now_; }
  const run_totals& totals() const { return totals_; }
  // The norm bound the next round's edges apply (robust.norm_bound; adaptive: moves by round).
  double norm_bound() const { return adaptive_ ? adaptive_->bound() : robust_.norm_bound; }
  // The batch `id` of the round in progress, or nullptr.
  const edge_batch* batch(uint64_t id) const { return round_ ? round_->batch(id) : nullptr; }

 private:
  // Starts rounds until one has batches out (or the run ends), appending to `step`.
  void next_round(sync_step& step);
  // Ends the round in progress if nothing is outstanding, then starts the next.
  void settle(sync_step& step, std::vector<edge_batch> send);
  // Server step, record, totals; marks the run finished after the last round.
  void finish_round(sync_step& step);
  // `routed` (region routing): each kept client's edge, chosen here so that its simulated
  // time includes the inter-region latency; the dropped clients' edges are released.
  std::vector<uint32_t> keep_in_time(std::vector<uint32_t> ids, uint32_t k, round_record& rec,
                                     std::vector<std::optional<uint32_t>>* routed = nullptr);
  sync_task task_of(edge_batch b) const;
  // Sends batch `b` in `step`, counting it in its edge's load (tasks, busy_s) of the round.
  void dispatch(edge_batch b, sync_step& step);
  // Simulated seconds of `id`'s task (device profile, the events' factors).
  double task_seconds(uint32_t id, size_t model_bytes) const;
  // Fires the events due at the start of round `number` into its record.
  void fire_events(uint32_t number, round_record& rec);

  scenario sc_;
  parts parts_;
  edge_set& edges_;
  uint32_t edge_capacity_;
  model_snapshot model_;
  model_snapshot control_;   // scaffold: c
  std::vector<float> next_;  // scratch for the optimizer's output
  // privacy.mode dp_fedavg (docs/privacy.md): the noised mean replaces the weighted mean, and
  // every round steps (an empty round too: whether a round had updates is not released
  // otherwise); round_q_ is the round's sampling rate for the accountant.
  std::unique_ptr<dp_fedavg> dp_;
  double round_q_ = 0;
  uint64_t version_ = 0;
  uint32_t rounds_done_ = 0;
  double sim_now_ = 0;
  bool finished_ = false;
  bool stopped_ = false;
  bool halted_ = false;
  std::optional<sync_round> round_;
  std::chrono::steady_clock::time_point started_;
  run_totals totals_;
  bool checkpoints_ = false;
  uint32_t checkpoint_every_ = 0;
  event_timeline timeline_;
  std::unique_ptr<client_conditions> conditions_;  // null without events
  // The round in progress as it started (for a stop's checkpoint): the simulated time, how
  // many events had fired, and the clients the sampler picked.
  double round_sim_start_ = 0;
  size_t round_fired_ = 0;
  std::vector<uint32_t> round_picks_;
  std::optional<std::vector<uint32_t>> resume_picks_;  // a stop's round, redone on resume
  std::shared_ptr<loop_checkpoint> stop_checkpoint_;
  robust_settings robust_;                 // robust.* as the edges get it (bound: the fixed one)
  std::optional<adaptive_clip> adaptive_;  // robust.norm_bound.target_quantile > 0
  // The round's kept clients and their simulated durations, ascending ids (for the sampler's
  // observe()); the clients per round (selection.adaptive_size moves it).
  std::vector<std::pair<uint32_t, double>> durations_;
  uint32_t sample_size_ = 0;
  // population.availability (docs/selection.md "Availability"); null for always.
  std::unique_ptr<online_model> online_;
  std::optional<pace_steering> pace_;  // selection.pace
  // Samples `wanted` clients for round `number` among the available ones (events and the
  // online model at the round's start); all of them when fewer are available.
  std::vector<uint32_t> sample_available(uint32_t wanted, uint32_t number);
  // Feeds the round's client reports to the sampler and, with selection.adaptive_size, sets
  // the next round's size from the aggregate's spread (`mean`: the round's mean update).
  void learn_from_reports(const std::vector<float>& mean, round_record& rec);
};

}  // namespace fedactor
