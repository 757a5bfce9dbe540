#pragma once

// The one place that wires a run's server side: the server actor over the given edges, the
// round observer (records in round order, the model evaluated every eval.every rounds by the
// evaluator, off the server's thread) and the host's callback; run() blocks until the run is
// over and turns the server's report into the run's summary. Used by the embedding API
// (federation), the server node and the tests, in one process or with remote edges alike.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/node_id.hpp>

#include "actors/edge.hpp"
#include "actors/evaluator.hpp"
#include "actors/round_observer.hpp"
#include "actors/server.hpp"
#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/strategy_parts.hpp"

namespace fedactor {

struct federation_result {
  run_summary summary;
  std::vector<float> model;
};

struct server_graph_config {
  scenario sc;
  model_spec spec;
  std::shared_ptr<const data_source> data;  // the evaluator's test split (and client data)
  std::shared_ptr<client_registry> registry;
  std::vector<edge_actor> edges;
  uint32_t edge_capacity = 1;
  std::vector<float> initial_model;
  strategy_parts parts;
  // The clients' algorithm state when they train in this process (FedBN: clients are
  // evaluated with their own normalisation layers); null otherwise.
  std::shared_ptr<client_state_store> client_state;
  // Each record, evaluation attached, in round order, on the observer's thread.
  std::function<void(const round_record&)> on_round;
  // Edge lost / rejoined lines, on the server's thread.
  std::function<void(const std::string&)> on_event;
  // A peer's address for the server's refusal lines (server_config::peer_address).
  std::function<std::string(const caf::node_id&)> peer_address;
  // Checkpoints (docs/checkpoints.md): when set, the server's checkpoints (every
  // checkpoint.every rounds / steps and at the end) are written to this directory, each once
  // the records before it have been handed to on_round; with client_state, mid-run sync
  // checkpoints snapshot the store beside it.
  std::filesystem::path checkpoint_dir;
  // A checkpoint to continue from (read_run_checkpoint); null: a fresh run.
  std::shared_ptr<const run_checkpoint> resume;
  // The edges are in other processes: async tasks send each model version once per edge,
  // then references (server_config::model_references).
  bool model_references = false;
};

// Why the server side of a run of `sc` is checkpointed at the end only: the reasons of
// mid_run_checkpoint_limit, and a run whose clients keep algorithm state (SCAFFOLD, FedBN) in
// other processes (`client_state_here` false: distributed client hosts), which no mid-run
// checkpoint of the server could hold. nullopt: checkpointed every checkpoint.every.
std::optional<std::string> server_checkpoint_limit(const scenario& sc, bool client_state_here);

// The result of a run stopped before its server started (a server node stopped while it waited
// for its edges): no round, the initial model, interrupted by `stopped_by`.
federation_result unstarted_run(const scenario& sc, std::vector<float> initial_model,
                                std::chrono::steady_clock::time_point started,
                                const std::string& stopped_by);

class server_graph {
 public:
  // Spawns the server, observer and evaluator. Throws std::invalid_argument when the
  // scenario's algorithm parts cannot be built (the server's message); checkpoint_error when
  // `resume` is another scenario's or does not fit the run.
  server_graph(caf::actor_system& sys, server_graph_config cfg);
  // Stops the actors it spawned (not the edges).
  ~server_graph();
  server_graph(const server_graph&) = delete;
  server_graph& operator=(const server_graph&) = delete;

  server_actor server() const { return server_; }

  // Runs to the end: every record handed on, the summary filled (wall time counted from
  // `started`). Throws std::runtime_error when the server fails.
  federation_result run(std::chrono::steady_clock::time_point started);

 private:
  caf::actor_system& sys_;
  server_graph_config cfg_;
  server_actor server_;
  observer_actor observer_;
  evaluator_actor evaluator_;
  std::shared_ptr<double> round_wall_;
  std::shared_ptr<round_record> last_eval_;
  // Σ update_bytes_up and Σ updates_up over the records (the summary's update traffic).
  std::shared_ptr<std::pair<uint64_t, uint64_t>> update_traffic_;
  std::shared_ptr<std::string> checkpoint_failure_;  // the first checkpoint write that failed
  std::shared_ptr<uint64_t> model_traffic_;          // Σ model_bytes_down over the records
};

// Runs the server side of a run to its end: a server_graph of `cfg`, and after each scripted
// server_crash (the server halts with a checkpoint of that point) a new graph resumed from
// that checkpoint, over the same edges, until the run ends or is stopped. With crash events
// and no cfg.checkpoint_dir the checkpoints go to a temporary directory. `on_server` is called
// with each server before it runs (the host arms its stop switch, tells its registrar);
// `on_event` (also cfg.on_event) gets one line per crash. Throws as server_graph and run() do.
federation_result run_server_graph(caf::actor_system& sys, server_graph_config cfg,
                                   std::chrono::steady_clock::time_point started,
                                   const std::function<void(const server_actor&)>& on_server);

}  // namespace fedactor
