#pragma once

// The embedding API. A federation is built from a scenario and runs inside an
// actor_system the host program owns (configured with fedactor::system_config or with
// fedactor::register_messages applied to its own config):
//
//   fedactor::system_config cfg;
//   caf::actor_system sys{cfg};
//   fedactor::federation fl{sys, scenario};
//   fl.on_round([](const fedactor::round_record& r) { ... });
//   auto result = fl.run();   // blocks until every round is done (or fl.stop())
//   fl.model();               // the final global parameters

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "runtime/host/server_graph.hpp"
#include "runtime/host/stop_switch.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/strategy_parts.hpp"

namespace fedactor {

class client_registry;

class federation {
 public:
  // Throws std::runtime_error with validate()'s one-line message if `s` is not a valid
  // scenario (one built in code has not been through the loader's checks), or when
  // strategy.normalization is local and the model has no normalisation layers.
  federation(caf::actor_system& sys, scenario s);
  ~federation();

  // Called once per round (or async step), in order, on the round observer's thread; with
  // eval.every set, evaluated rounds carry the test-split figures.
  void on_round(std::function<void(const round_record&)> callback);

  // Your own algorithm parts (docs/strategies.md, examples/custom_strategy.cpp), used by the
  // next run() instead of the scenario's strategy.server_optimizer, selection.strategy and
  // async.decay. The factory is called once per run with the model size / the registry.
  void set_server_optimizer(std::function<std::unique_ptr<server_optimizer>(size_t dim)> factory);
  void set_sampler(
      std::function<std::unique_ptr<sampler>(client_registry& reg, uint64_t seed)> factory);
  void set_staleness_weight(staleness_weight weight);

  // The file clients' algorithm state spills to (strategy.client scaffold,
  // strategy.normalization local; runtime/state/client_state_store.hpp). Default: a file in a
  // fresh directory under the system's temp directory, removed after the run.
  void set_client_state_file(std::filesystem::path file);

  // Checkpoints (docs/checkpoints.md): the next run() writes the server's checkpoints to `dir`
  // (created if missing) every checkpoint.every rounds / async steps and at its end. Adds a
  // warning when this scenario is checkpointed at the end only (mid_run_checkpoint_limit).
  // run() throws std::runtime_error when the sampler (your own) cannot save its state.
  void set_checkpoint(std::filesystem::path dir);

  // The next run() continues from the checkpoint in `dir` (written by a run of this same
  // scenario), as if it had never stopped: same model bytes at the end, records from the
  // checkpoint's round on. The clients' state store file (set_client_state_file) is replaced
  // by the checkpoint's snapshot. Throws checkpoint_error, one line, when the checkpoint is
  // missing, damaged or another scenario's. Returns the rounds (sync) or steps (async) it
  // holds, so the host can drop its records after them. Only the next run() resumes.
  uint32_t resume_from(const std::filesystem::path& dir);

  // One line each about the model or scenario that the host should show once (e.g. model
  // state that is not federated). Filled at construction.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Runs the scenario to the end. Throws std::runtime_error if the run cannot complete
  // (the server failed); client and edge failures are counted, not thrown.
  federation_result run();

  // Ends the run in progress early; safe from any thread (e.g. one that waits for signals).
  // Sync keeps the model of the last completed round (the round in progress is abandoned),
  // async the model of the last server step (the tasks in flight are abandoned); run() then
  // returns that model with summary.interrupted set and summary.stopped_by = `reason`, after
  // every record of a completed round has been handed on. Called while no run is in progress,
  // the next run() stops as soon as it starts (no round). The first call counts.
  void stop(const std::string& reason = "stop");

  const scenario& config() const { return scenario_; }
  const model_spec& spec() const { return spec_; }
  const std::vector<float>& model() const { return model_; }
  // Heap bytes of the client registry (and the sampler's per-client structures).
  size_t registry_bytes() const { return registry_bytes_; }

 private:
  caf::actor_system& sys_;
  scenario scenario_;
  model_spec spec_;
  std::function<void(const round_record&)> on_round_;
  strategy_parts parts_;
  std::filesystem::path state_file_;
  std::filesystem::path checkpoint_dir_;
  std::filesystem::path resume_dir_;
  std::shared_ptr<const run_checkpoint> resume_;
  std::vector<std::string> warnings_;
  std::vector<float> model_;
  size_t registry_bytes_ = 0;
  stop_switch stop_;
};

}  // namespace fedactor
