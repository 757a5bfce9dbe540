#pragma once

// A rogue edge for the hostile node tests: an actor system in the test process that joins a
// listening `fedactor node server` over the network as edge `id`, exactly as a real edge node
// does (node_hello with the protocol version, then edge_join with its actor handles), and
// answers every edge_ins itself with a well-formed edge_res:
//
//   - fail_all: a valid answer in which every client of the batch failed (client_error) — the
//     batch adds nothing to the model, as an honest edge whose clients all failed;
//   - hostile: the n-th answer is refused by the server's record for reason n (below), the
//     last reason again after that. A refused answer also adds nothing, so a run against a
//     hostile rogue must give the model of the same run against a fail_all one.
//
// Handles node_shutdown from the server (node_ack), so the server's end of run is clean.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/registrar.hpp"
#include "messages/edge.hpp"
#include "messages/node.hpp"
#include "runtime/host/node_net.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/failure.hpp"

namespace fedactor::testing {

class rogue_edge {
 public:
  enum class mode { fail_all, hostile };

  // What the hostile answers do wrong, in order (the server's answer_refusal names).
  static std::vector<std::string> hostile_reasons() {
    return {"wrong_dimension", "wrong_round", "failure_codes", "wrong_count",
            "malformed_aggregate"};
  }

  // One scheduler thread, heartbeats every 100 ms, a 30 s connection timeout (a loaded
  // machine must not make the rogue's connection time out before the run's end).
  static node_net_options default_net() {
    node_net_options n;
    n.threads = 1;
    n.heartbeat = std::chrono::milliseconds(100);
    n.connection_timeout = std::chrono::seconds(30);
    return n;
  }

  rogue_edge(mode m, uint32_t id, node_net_options net)
      : mode_(m), id_(id), net_(std::move(net)), sys_(configured(cfg_, net_)) {}

  rogue_edge(const rogue_edge&) = delete;
  rogue_edge& operator=(const rogue_edge&) = delete;

  ~rogue_edge() {
    if (edge_) caf::anon_send_exit(edge_, caf::exit_reason::user_shutdown);
    if (control_) caf::anon_send_exit(control_, caf::exit_reason::user_shutdown);
  }

  // Hello and join at the server on 127.0.0.1:port (connecting as a real edge does: tried
  // again with backoff for up to `timeout`). Empty on success, else why not.
  std::string join(uint16_t port, caf::timespan timeout = std::chrono::seconds(60)) {
    auto server =
        connect_with_retry<registrar_actor>(sys_, host_port{"127.0.0.1", port}, net_, timeout);
    if (!server) return "cannot connect: " + sys_.render(server.error());
    auto welcome = ask_watching<node_welcome>(sys_, *server, timeout,
                                              node_hello{"edge", id_, node_protocol_version});
    if (!welcome) return "hello refused: " + sys_.render(welcome.error());
    auto st = state_;
    const auto m = mode_;
    const auto id = id_;
    edge_ = sys_.spawn([st, m, id]() -> caf::behavior {
      return {[st, m, id](edge_ins& ins) { return answer(*st, m, id, ins); }};
    });
    control_ = sys_.spawn([]() -> caf::behavior {
      return {[](node_shutdown&) { return node_ack{true, "rogue edge leaving"}; }};
    });
    auto ack = ask_watching<node_ack>(sys_, *server, timeout,
                                      edge_join{id_, "rogue", 0, "127.0.0.1:0", edge_, control_});
    if (!ack) return "join failed: " + sys_.render(ack.error());
    if (!ack->accepted) return "join refused: " + ack->message;
    return {};
  }

  // edge_ins answered so far.
  uint32_t answered() const {
    std::lock_guard<std::mutex> guard{state_->mu};
    return state_->answered;
  }

 private:
  struct shared {
    mutable std::mutex mu;
    uint32_t answered = 0;
  };

  static system_config& configured(system_config& cfg, const node_net_options& net) {
    configure(cfg, net);
    return cfg;
  }

  static edge_res answer(shared& st, mode m, uint32_t id, const edge_ins& ins) {
    uint32_t n = 0;
    {
      std::lock_guard<std::mutex> guard{st.mu};
      n = ++st.answered;
    }
    const auto clients = static_cast<uint32_t>(ins.clients.size());
    edge_res res;
    res.round = ins.round;
    res.edge = id;
    res.aggregate = weighted_accumulator{ins.model.size()}.serialize();  // no update
    failure_counts all_failed;
    all_failed.add(failure_code::client_error, clients);
    res.failed_by = all_failed.to_wire();
    if (m == mode::fail_all) return res;
    switch (n) {
      case 1: {  // an update of 3 values more than the model has
        weighted_accumulator acc{ins.model.size() + 3};
        std::vector<float> x(ins.model.size() + 3, 0.25f);
        acc.add(x.data(), 1.0);
        res.aggregate = acc.serialize();
        failure_counts rest;
        rest.add(failure_code::client_error, clients - 1);
        res.failed_by = rest.to_wire();
        break;
      }
      case 2:  // another round's answer
        res.round = ins.round + 7;
        break;
      case 3:  // failure counts of two codes more than there are
        res.failed_by.resize(failure_code_count + 2, 0);
        break;
      case 4: {  // one client more than the batch holds
        failure_counts more;
        more.add(failure_code::client_error, clients + 1);
        res.failed_by = more.to_wire();
        break;
      }
      default:  // bytes that are no accumulator
        res.aggregate = std::vector<char>(13, 'z');
    }
    return res;
  }

  mode mode_;
  uint32_t id_;
  node_net_options net_;
  system_config cfg_;
  caf::actor_system sys_;
  std::shared_ptr<shared> state_ = std::make_shared<shared>();
  caf::actor edge_;
  caf::actor control_;
};

}  // namespace fedactor::testing
