#pragma once

// What the rogue peers of the hostile node tests (rogue_edge.hpp, rogue_host.hpp) share: an
// actor system of their own in the test process, configured as a node's (node_net_options),
// and a count of the answers they gave, kept across their actors' threads.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>

#include "runtime/host/node_net.hpp"
#include "runtime/host/system_config.hpp"

namespace fedactor::testing {

class rogue_peer {
 public:
  // One scheduler thread, heartbeats every 100 ms, a 30 s connection timeout (a loaded
  // machine must not make the rogue's connection time out before the run's end).
  static node_net_options default_net() {
    node_net_options n;
    n.threads = 1;
    n.heartbeat = std::chrono::milliseconds(100);
    n.connection_timeout = std::chrono::seconds(30);
    return n;
  }

  rogue_peer(const rogue_peer&) = delete;
  rogue_peer& operator=(const rogue_peer&) = delete;

  // Answers given so far.
  uint32_t answered() const {
    std::lock_guard<std::mutex> guard{state_->mu};
    return state_->answered;
  }

 protected:
  struct shared {
    mutable std::mutex mu;
    uint32_t answered = 0;
  };

  explicit rogue_peer(node_net_options net) : net_(std::move(net)), sys_(configured(cfg_, net_)) {}
  ~rogue_peer() = default;

  // Counts one more answer; its number, from 1.
  static uint32_t next_answer(shared& st) {
    std::lock_guard<std::mutex> guard{st.mu};
    return ++st.answered;
  }

  node_net_options net_;
  system_config cfg_;
  caf::actor_system sys_;
  std::shared_ptr<shared> state_ = std::make_shared<shared>();

 private:
  static system_config& configured(system_config& cfg, const node_net_options& net) {
    configure(cfg, net);
    return cfg;
  }
};

}  // namespace fedactor::testing
