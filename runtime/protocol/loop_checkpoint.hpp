#pragma once

// The state of a protocol loop at a checkpoint (docs/checkpoints.md), as plain structs: what
// sync_loop and async_loop export at a round / server-step boundary and take back before they
// start, and what the server shell hands on to be written. Their byte form is in
// runtime/checkpoint/loop_state.hpp.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/run_totals.hpp"

namespace fedactor {

// A sync run after round `rounds_done`.
struct sync_loop_state {
  uint32_t rounds_done = 0;
  uint64_t version = 0;
  double sim_now = 0;
  bool finished = false;
  run_totals totals;
  std::vector<float> model;
  std::vector<float> control;   // SCAFFOLD's server control variate; empty otherwise
  std::vector<char> optimizer;  // server_optimizer::save_state
  std::vector<char> sampler;    // sampler::save_state
  std::vector<char> registry;   // client_registry::save_picks
  // The scripted events fired so far (scenario indices, in firing order): replayed on resume.
  std::vector<uint32_t> fired_events;
  // A stop's checkpoint (sync_loop::stop): round rounds_done + 1 was in progress. Its clients,
  // as the sampler picked them (before the deadline cut): the sampler and the registry are
  // past that pick, while the simulated time and the fired events are as at the round's start.
  // A resumed loop redoes the round with these clients (its events fire again).
  bool pending = false;
  std::vector<uint32_t> pending_ids;
  // robust.norm_bound with target_quantile > 0: the adaptive bound after rounds_done (0: none).
  double clip_bound = 0;
  // privacy.mode dp_fedavg: dp_fedavg::save_state (the clip bound, the accountant's totals);
  // empty otherwise.
  std::vector<char> privacy;
  // selection.adaptive_size: the next round's clients_per_round (0: fixed size).
  uint32_t sample_size = 0;
  // selection.pace: the failure-rate EWMA after rounds_done, in [0, 1] (-1: no pace steering).
  double pace_failure_rate = -1;
};

// A task in flight at an async checkpoint: redispatched on resume with the same numbers (its
// answer, if it had come, is not kept: the client trains again and gives the same update).
struct async_task_state {
  uint64_t seq = 0;
  uint32_t attempt = 0;
  uint32_t client = 0;
  uint64_t base_version = 0;
  uint64_t task_seed = 0;
  double finish = 0;         // simulated finish time
  uint32_t num_samples = 0;  // the registry's, the weight its answer must carry
  bool cancelled = false;    // it failed (counted) and waits for its release: not redispatched
};

// An async (FedBuff) run right after server step `steps_done`.
struct async_loop_state {
  uint32_t steps_done = 0;
  bool finished = false;
  double sim_now = 0;
  double sim_at_last_step = 0;
  uint64_t next_seq = 0;
  uint64_t next_group = 1;
  run_totals totals;
  // Since the last step.
  failure_counts failures;
  std::vector<std::string> details;
  uint32_t edges_lost = 0, edges_rejoined = 0, rerouted = 0;
  std::vector<char> buffer;  // fedbuff::save (server optimizer included)
  std::vector<async_task_state> tasks;
  // The models the tasks started from, by version (each task's base version once).
  std::vector<std::pair<uint64_t, std::vector<float>>> models;
  std::vector<char> sampler;
  std::vector<char> registry;
  std::vector<uint32_t> fired_events;  // as in sync_loop_state
  // selection.adaptive_size: the concurrency after steps_done (0: fixed async.concurrency).
  uint32_t concurrency = 0;
  // population.availability: tasks whose client went offline since the last step.
  uint32_t went_offline = 0;
  // selection.pace: the failure-rate EWMA after steps_done (-1: no pace steering).
  double pace_failure_rate = -1;
};

// What a loop hands the shell when a checkpoint is due: after round / step `round`, the loop
// state in bytes (runtime/checkpoint/loop_state.hpp).
struct loop_checkpoint {
  uint32_t round = 0;
  bool finished = false;  // the run's last round / step: the checkpoint at the end
  std::vector<char> state;
  // Set by the server shell: the file name of the client state snapshot taken with it (in the
  // checkpoint directory), empty when there is none.
  std::string client_state;
};

}  // namespace fedactor
