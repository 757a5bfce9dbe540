#pragma once

// `fedactor node clients`: hosts the client actors of an id range for one edge. Connects to
// the edge, takes the scenario from it (so its clients' data is the same as in one
// process), registers, and trains what the edge sends. When the edge says the run is over
// it exits 0; when the edge is lost it reconnects (a fresh handle, e.g. to a restarted
// edge) for up to join_timeout, then exits 1 (docs/deployment.md).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "runtime/host/node_net.hpp"
#include "runtime/host/stop_switch.hpp"

namespace fedactor {

struct clients_node_options {
  host_port edge;
  uint32_t first = 0;  // ids first..last, inclusive
  uint32_t last = 0;
  uint32_t max_live = 0;  // client actors alive at once; 0 = scenario pool.max_live_clients
  uint32_t trainers = 0;  // local trainer threads; 0 = scenario pool.trainers
  caf::timespan join_timeout = std::chrono::seconds(60);  // connecting / reconnecting
  // The file this node's clients keep their algorithm state in (strategy.client scaffold,
  // strategy.normalization local); empty = a temporary file removed when the node ends.
  std::filesystem::path state_file;
  node_net_options net;
  // Makes the node leave while it serves (the CLI requests it on SIGINT / SIGTERM): its actors
  // quit, so its peer sees it lost at once. Armed only while the node serves; a request
  // before that is carried out once it does. Null: not stoppable.
  std::shared_ptr<stop_switch> stop;
  std::function<void(const std::string&)> log;
};

// Parses "A-B" (inclusive) or a single id "A".
bool parse_id_range(const std::string& text, uint32_t& first, uint32_t& last);

// Returns the process exit code: 0 shut down by the edge or left on opts.stop (the edge's
// tasks on this host fail at once, its ids train at the edge), 1 edge unreachable, 2 refused.
int run_clients_node(const clients_node_options& opts);

}  // namespace fedactor
