#pragma once

// `fedactor node server`: publishes the registrar, waits until every edge of the scenario's
// topology has registered, then runs the scenario with the server actor talking to the
// remote edges, and tells the edges when the run is over (docs/deployment.md).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/node_net.hpp"
#include "runtime/host/stop_switch.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

struct server_node_options {
  scenario sc;  // validated
  host_port listen;
  node_net_options net;
  // How long to wait for all edges; 0 = as long as it takes.
  caf::timespan join_timeout = caf::timespan{0};
  std::function<void(uint16_t port)> on_listening;    // the port bound, once
  std::function<void(const round_record&)> on_round;  // server thread, round order
  std::function<void(const std::string&)> log;        // one line per event
  // Stops the run early (the CLI requests it on SIGINT / SIGTERM): while the edges join, no
  // round runs; while running, the server stops (sync: the round in progress is abandoned;
  // async: the tasks in flight). Either way the result is marked interrupted and the edges
  // are told the run is over. Null: not stoppable.
  std::shared_ptr<stop_switch> stop;
  // Checkpoints (docs/checkpoints.md): written to this directory every checkpoint.every rounds /
  // steps and at the end; empty: none. Runs whose client hosts keep client state are
  // checkpointed at the end only (server_checkpoint_limit; logged as a warning).
  std::filesystem::path checkpoint_dir;
  // A checkpoint of this scenario's run to continue from (read_run_checkpoint; `fedactor node
  // server --resume`); null: a fresh run. The edges register afresh either way.
  std::shared_ptr<const run_checkpoint> resume;
};

struct server_node_result {
  federation_result result;  // summary and final model, as `fedactor run` gives them
  model_spec spec;
  // False when the run was stopped before every edge joined: no round ran (result then holds
  // the initial model, marked interrupted).
  bool ran = true;
  // Plain TCP: connections the BASP guard in front of the server dropped (basp_guard::refused,
  // basp_guard::truncated); with TLS there is no guard and no count.
  bool guarded = false;
  uint64_t frames_refused = 0;
  uint64_t frames_truncated = 0;
  // Everything the guard relayed (plain TCP) or the TLS meter counted (registrations
  // included), by frame kind, message kind and peer kind; bytes_counted false: neither.
  bool bytes_counted = false;
  byte_totals bytes;
};

// Runs the server node to the end (or to a stop). Throws std::runtime_error (one line) when it
// cannot listen, the edges do not all join within join_timeout, or the server fails.
server_node_result run_server_node(const server_node_options& opts);

}  // namespace fedactor
