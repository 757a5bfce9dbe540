#pragma once

// `fedactor node edge`: connects to the server, takes the scenario from it, publishes
// itself for client hosts, registers its edge actor under its id, and serves rounds until
// the server says the run is over (exit 0), the server is lost and does not come back within
// join_timeout (exit 1; a server restarted with --resume, or reachable again after a network
// partition, gets the edge registered again with a fresh edge actor while its client hosts
// stay) or it is told to leave (opts.stop: the server sees the edge lost and applies
// faults.on_edge_loss). Client ids that no registered client host covers train in this process
// (docs/deployment.md). With below_parent the node joins a parent edge (its `server` address)
// as child `id` instead of the server, in an aggregation tree (messages/tree.hpp); every edge
// node takes child edges.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "runtime/host/node_net.hpp"
#include "runtime/host/stop_switch.hpp"

namespace fedactor {

struct edge_node_options {
  host_port server;           // the server, or the parent edge with below_parent
  bool below_parent = false;  // --parent: join `server` as a child edge
  host_port listen;           // for client hosts
  uint32_t id = 0;
  std::string region;
  uint32_t capacity = 0;    // client tasks at once; 0 = pool.max_live_clients / edges
  uint32_t trainers = 0;    // local trainer threads; 0 = scenario pool.trainers
  uint32_t wait_hosts = 0;  // register with the server only after this many client hosts
  // Sync rounds: client hosts aggregate their clients (one exact aggregate per host and round)
  // where the round's settings allow it (runtime/protocol/host_aggregation.hpp).
  bool host_aggregation = true;
  // Connecting to the server, at the start and again after its loss.
  caf::timespan join_timeout = std::chrono::seconds(60);
  // The file this node's clients keep their algorithm state in (strategy.client scaffold,
  // strategy.normalization local); empty = a temporary file removed when the node ends.
  std::filesystem::path state_file;
  node_net_options net;
  // Makes the node leave while it serves (the CLI requests it on SIGINT / SIGTERM): its actors
  // quit, so its peer sees it lost at once. Armed only while the node serves; a request
  // before that is carried out once it does. Null: not stoppable.
  std::shared_ptr<stop_switch> stop;
  std::function<void(uint16_t port)> on_listening;
  std::function<void(const std::string&)> log;
};

// Returns the process exit code: 0 shut down by the server or left on opts.stop, 1 server lost
// or failure, 2 refused (bad id, protocol mismatch) or bad options. Errors are logged.
int run_edge_node(const edge_node_options& opts);

}  // namespace fedactor
