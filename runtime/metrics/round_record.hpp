#pragma once

// One record per sync round (one line of metrics.jsonl) and the run's totals
// (summary.json).

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "runtime/host/basp_message_kind.hpp"
#include "runtime/protocol/failure.hpp"

namespace fedactor {

// A scripted event that fired (docs/scenarios.md "Events"), as metrics.jsonl shows it.
struct fired_event {
  std::string kind;       // "edge_down", "region_down", "clients_leave", ...
  std::string target;     // "edge 2", "region 1", "fraction 0.2", "ids [0, 100)" (+ " x4" factor)
  std::string trigger;    // "round 3", "step 10", "at 120.5"
  double sim_time_s = 0;  // simulated time at which it took effect
  // region and churn kinds: clients whose availability it changed; edge kinds: 1 if the edge
  // changed state, 0 if it already was down / up; -1 (not written) for bandwidth / compute.
  int64_t changed = -1;
};

// How much an async server loop holds at one moment: what must stay bounded however long it
// runs (async_loop::gauges).
struct async_gauges {
  uint32_t in_flight = 0;       // tasks dispatched and not yet done (answered, failed, released)
  uint32_t held = 0;            // answers or failures held for release in simulated finish order
  uint32_t model_versions = 0;  // distinct model versions kept for the tasks in flight
  uint32_t groups = 0;          // pre-aggregation groups whose aggregate is not in yet
  uint32_t busy_clients = 0;    // clients with a task in flight
};

// One edge's load in a sync round, or since the last async step (docs/outputs.md "Per-edge
// load"). Counted by the loops as tasks go out and come back: O(edges) per record.
struct edge_load_counts {
  uint32_t tasks = 0;    // client tasks dispatched to the edge (a resend after a loss: again)
  uint32_t updates = 0;  // sync: updates in its accepted answers; async: its updates folded
  uint32_t failed = 0;   // its tasks that ended without an update from it (any failure code)
  // Simulated seconds of work dispatched to it: the sum of its tasks' durations (model down,
  // training, update up: task_duration with the events' factors); 0 under clock: real.
  double busy_s = 0;
  uint32_t in_flight = 0;  // async: its tasks outstanding at the end of the step
};

struct round_record {
  bool async = false;              // an async aggregation (server step), not a sync round
  uint32_t round = 0;              // 1-based: sync round, or async aggregation number
  uint64_t model_version = 0;      // global model version after this round
  uint32_t selected = 0;           // clients sampled
  uint32_t clients = 0;            // clients whose update was folded in
  uint32_t failures = 0;           // tasks without a usable update (failures_by, stale apart)
  failure_counts failures_by;      // per code: timeout, edge_lost, invalid_update, stale, ...
  double mean_loss = 0;            // mean of the clients' mean training loss
  double wall_s = 0;               // wall-clock seconds this round took
  double clients_per_s = 0;        // clients / wall_s
  uint32_t live_clients = 0;       // client actors alive over all edges after the round
  uint32_t peak_live_clients = 0;  // sum over edges of each edge's peak live set
  uint64_t evictions = 0;          // client actors evicted so far, all edges
  double sim_round_s = 0;          // simulated duration of this round / since the last step
  double sim_time_s = 0;           // simulated time at its end
  uint32_t dropped = 0;            // sync: selected but past the deadline or over-selected
  // selection.adaptive_size (sync; docs/selection.md); sample_size 0 = off, nothing written
  uint32_t sample_size = 0;       // clients_per_round this round asked for
  double rel_var = 0;             // relative variance of its aggregate (+inf: zero mean update)
  uint32_t next_sample_size = 0;  // what the rule chose for the next round
  // distributed runs (docs/deployment.md)
  uint32_t edges_lost = 0;      // edges lost in this round / since the last step (died, hung)
  uint32_t edges_rejoined = 0;  // lost edges that came back (a restarted process)
  uint32_t rerouted = 0;        // client tasks sent through another edge because theirs was lost
  // Per-edge load (the loops fill it; empty: not recorded, nothing written)
  uint32_t edges_alive = 0;                 // edges registered and not lost at the end
  std::vector<edge_load_counts> edge_load;  // [e], every edge of the federation
  // robust.norm_bound on (docs/robustness.md); norm_bound 0 = off, nothing written
  double norm_bound = 0;       // the L2 bound the edges (async: the buffer) applied this round
                               // (async: since the last server step; adaptive: moves)
  uint32_t norm_clipped = 0;   // updates clipped to it
  uint32_t norm_rejected = 0;  // updates rejected by it (also in failures_by invalid_update)
  // async only
  uint64_t stale_discarded = 0;               // cumulative updates discarded as too stale
  std::vector<uint32_t> staleness_histogram;  // [s] = folded updates with staleness s
  double mean_decay = 0;                      // mean decay weight of the folded updates
  async_gauges gauges;  // the server loop's bookkeeping right after the step (bench/soak.cpp)
  // evaluation of the global model (eval.every), when this round was evaluated
  bool evaluated = false;
  double test_loss = 0;        // mean cross-entropy on the test split
  double test_accuracy = 0;    // fraction of the test split classified correctly
  uint32_t test_samples = 0;   // 0 = the data has no test split
  double client_accuracy = 0;  // mean local accuracy of the eval.clients sampled clients
  uint32_t eval_clients = 0;
  std::string eval_error;                    // why the evaluation failed, if it did
  std::vector<std::string> failure_reasons;  // first few, "client N: reason"
  std::vector<fired_event> events;  // scripted events fired in this round / since the last step
  // client-level differential privacy (privacy.mode dp_fedavg, docs/privacy.md)
  bool private_round = false;
  double dp_clip = 0;         // C this round's updates were clipped to
  double dp_noise_std = 0;    // std of the noise added to each coordinate of the update sum
  uint32_t dp_unclipped = 0;  // updates whose norm was <= C (exact: a server log, not released)
  double dp_next_clip = 0;    // C of the next round (adaptive clipping moves it)
  double epsilon = 0;         // ε spent so far at `delta` (+inf: no noise, no guarantee)
  double delta = 0;
  // the clients' updates as they reached the edges (async forward: the server), in bytes:
  // compressed payloads or the models as floats (docs/communication.md)
  uint64_t update_bytes_up = 0;
  uint32_t updates_up = 0;  // how many updates those bytes are
  // `fedactor node server`: the bytes between it and the edges' nodes in this round / since the
  // last step, framing included, as the kernel carries them (guard or TLS: encrypted;
  // runtime/host/byte_counters.hpp, tls_byte_meter.hpp); net_bytes_counted false: not written
  bool net_bytes_counted = false;
  uint64_t net_bytes_down = 0;  // server -> edges
  uint64_t net_bytes_up = 0;    // edges -> server
  // population.availability not always (docs/selection.md "Availability"); online_fraction
  // < 0 = off, nothing written
  double online_fraction = -1;    // share of the population online at the round's start
  uint32_t wanted = 0;            // clients the round asked the sampler for (selected: got)
  uint32_t went_offline = 0;      // kept clients whose online time ended before they finished
  double over_select_factor = 1;  // selection.pace: wanted / clients_per_round this round
  // net_bytes_down / _up's actor-message bytes again by the kind of message they carried
  // (task, model, result, aggregate, control, other: runtime/host/basp_message_kind.hpp);
  // written with net_bytes_* (net_bytes_counted)
  std::array<uint64_t, message_kind_count> net_bytes_down_by_message{};
  std::array<uint64_t, message_kind_count> net_bytes_up_by_message{};
  // Model bytes the server sent down to the edges for this round (sync: the edge_ins of the
  // round's batches, resent ones included) / since the last step (async: the async_ins of the
  // tasks dispatched): 4 bytes per value of each task's model and aux blobs (docs/
  // communication.md, "Model bytes down"). The same in `fedactor run` and node runs.
  uint64_t model_bytes_down = 0;
};

struct run_summary {
  std::string scenario;
  std::string protocol;  // sync | async
  uint32_t rounds = 0;
  uint64_t clients_trained = 0;
  uint64_t failures = 0;
  failure_counts failures_by;  // per code over the run (stale included)
  double wall_s = 0;
  double mean_clients_per_s = 0;  // clients trained / total round wall time
  double final_loss = 0;
  std::string model_sha256;
  double model_l2 = 0;
  uint64_t num_params = 0;
  uint64_t peak_rss_bytes = 0;
  uint64_t registered_clients = 0;
  double sim_time_s = 0;  // simulated time at the end of the run
  // Stopped before its last round / step (a signal, federation::stop()): `rounds` is the
  // number completed, the model the last completed one's; stopped_by names the stop ("SIGINT").
  bool interrupted = false;
  std::string stopped_by;
  // async totals (the tutorial's get_stats() and more)
  uint64_t total_updates = 0;     // updates folded into the buffer
  uint64_t stale_updates = 0;     // discarded for staleness
  uint64_t rejected_updates = 0;  // malformed updates refused
  uint32_t aggregations = 0;      // server steps
  // robust.norm_bound on: updates clipped / rejected over the run
  bool norm_bound_on = false;
  uint64_t norm_clipped = 0;
  uint64_t norm_rejected = 0;
  // the last evaluation of the global model (eval.every), if any
  bool evaluated = false;
  uint32_t evaluated_round = 0;
  uint32_t test_samples = 0;  // 0 = the data has no test split: no test figures
  double test_loss = 0;
  double test_accuracy = 0;
  uint32_t eval_clients = 0;  // 0 = eval.clients off: no client accuracy
  double client_accuracy = 0;
  // client-level differential privacy (privacy.mode dp_fedavg): the (ε, δ) spent by the whole
  // run, resumed parts included (+inf: no noise)
  bool private_run = false;
  double epsilon = 0;
  double delta = 0;
  double final_clip = 0;  // C after the last round
  // update traffic (round_record::update_bytes_up) summed over the rounds / steps this process
  // ran (a resumed run: since the resume)
  uint64_t update_bytes_up = 0;
  uint64_t updates_up = 0;
  // round_record::net_bytes_* summed over the run's rounds / steps (node server)
  bool net_bytes_counted = false;
  uint64_t net_bytes_down = 0;
  uint64_t net_bytes_up = 0;
  // What this process refused from other processes, by reason (docs/security.md); written into
  // summary.json when `refusals` is set (fedactor run, resume and node server set it):
  // undeserializable messages (messages/wire_rejects), edge answers refused by the server
  // (runtime/protocol/answer_refusals), client results refused at the edges as the edges'
  // answers reported them (runtime/protocol/result_refusals), and with plain TCP on a node
  // server the connections its BASP guard dropped (runtime/host/basp_guard: malformed_frame,
  // truncated_frame). Every reason is listed, 0s included; refused_peers is empty when there is
  // no guard.
  bool refusals = false;
  std::vector<std::pair<std::string, uint64_t>> wire_rejects;
  std::vector<std::pair<std::string, uint64_t>> refused_answers;
  std::vector<std::pair<std::string, uint64_t>> refused_results;
  std::vector<std::pair<std::string, uint64_t>> refused_peers;
  // Per-edge totals: the sums of metrics.jsonl's edge_load entries over the run (in_flight
  // apart), filled by metrics_writer::write_summary; empty: no record had them.
  std::vector<edge_load_counts> edge_totals;
  // round_record::net_bytes_*_by_message summed over the run (net_bytes_counted)
  std::array<uint64_t, message_kind_count> net_bytes_down_by_message{};
  std::array<uint64_t, message_kind_count> net_bytes_up_by_message{};
  // round_record::model_bytes_down summed over the rounds / steps this process ran
  uint64_t model_bytes_down = 0;
};

// An async run that ended because no update was accepted for too long (async_loop::stalled):
// stopped_by starts with "stalled:". The CLI exits 1 then (docs/async.md).
inline bool ended_stalled(const run_summary& s) {
  return s.interrupted && s.stopped_by.rfind("stalled:", 0) == 0;
}

// Takes the evaluation of `r` (if it was evaluated) as the run's last one.
inline void note_evaluation(run_summary& s, const round_record& r) {
  if (!r.evaluated) return;
  s.evaluated = true;
  s.evaluated_round = r.round;
  s.test_samples = r.test_samples;
  s.test_loss = r.test_loss;
  s.test_accuracy = r.test_accuracy;
  s.eval_clients = r.eval_clients;
  s.client_accuracy = r.client_accuracy;
}

}  // namespace fedactor
