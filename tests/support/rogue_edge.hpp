#pragma once

// A rogue edge for the hostile node tests: an actor system in the test process that joins a
// listening `fedactor node server` over the network as edge `id`, exactly as a real edge node
// does (node_hello with the protocol version, then edge_join with its actor handles), and
// answers every task itself:
//
//   - fail_all: sync, a valid edge_res in which every client of the batch failed
//     (client_error); async, an error for every task (training_failed) — either adds nothing
//     to the model, as an honest edge whose clients all failed;
//   - hostile: a well-formed answer that the server's record refuses, the n-th (from 1) for
//     reason n (hostile_reasons for sync rounds, async_hostile_reasons for async tasks), the
//     last reason again after that. A refused answer also adds nothing, so a run against a
//     hostile rogue must give the model of the same run against a fail_all one.
//
// Handles node_shutdown from the server (node_ack), so the server's end of run is clean. It
// keeps no model: an async task that refers to one is answered model_missing (the server then
// sends it again with the model).

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actors/registrar.hpp"
#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "messages/node.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "tests/support/rogue_peer.hpp"

namespace fedactor::testing {

class rogue_edge : public rogue_peer {
 public:
  enum class mode { fail_all, hostile };

  // What the hostile answers to edge_ins do wrong, in order (the server's answer_refusal names).
  static std::vector<std::string> hostile_reasons() {
    return {"wrong_dimension", "wrong_round",         "failure_codes",
            "wrong_count",     "malformed_aggregate", "refusal_counts"};
  }

  // What the hostile answers to async_ins do wrong, in order (the server's answer_refusal
  // names). The last one is a sample count that cannot be the client's: every check before it
  // passes (the rogue cannot know the registry's count, so it comes last).
  static std::vector<std::string> async_hostile_reasons() {
    return {"unknown_task",    "wrong_client", "wrong_kind",
            "wrong_dimension", "non_finite",   "wrong_samples"};
  }

  rogue_edge(mode m, uint32_t id, node_net_options net)
      : rogue_peer(std::move(net)), mode_(m), id_(id) {}

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
      return {[st, m, id](edge_ins& ins) { return answer(*st, m, id, ins); },
              [st, m](async_ins& ins) { return answer_task(*st, m, ins); }, [](group_close&) {}};
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

 private:
  static edge_res answer(shared& st, mode m, uint32_t id, const edge_ins& ins) {
    const uint32_t n = next_answer(st);
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
      case 5:  // bytes that are no accumulator
        res.aggregate = std::vector<char>(13, 'z');
        break;
      default:  // a refused client result, where no client failed as invalid_update
        res.refused_results = std::vector<uint32_t>(result_refusal_count, 0);
        res.refused_results[0] = 1;
    }
    return res;
  }

  static caf::result<async_res> answer_task(shared& st, mode m, const async_ins& ins) {
    // It keeps no model: a task by reference comes again with the model (messages/async.hpp).
    if (ins.model_by_reference) return make_error(errc::model_missing, "rogue edge: no models");
    const uint32_t n = next_answer(st);
    if (m == mode::fail_all) return make_error(errc::training_failed, "rogue edge: no training");
    async_res res;
    res.seq = ins.seq;
    res.client = ins.client;
    std::vector<float> values = ins.model.values();  // "trained": the model it was sent
    async_update u;
    u.num_samples = 987654321;  // never the client's: refused for it where nothing comes first
    u.loss = 0.5;
    switch (n) {
      case 1:  // another task's number
        res.seq = ins.seq + 1000000;
        break;
      case 2:  // another client's answer
        res.client = ins.client + 1;
        break;
      case 3:  // "held" for a forwarded task
        res.outcome = async_held{};
        return res;
      case 4:  // 3 values more than the model has
        values.resize(values.size() + 3, 0.0f);
        break;
      case 5:  // a NaN among the values
        values[values.size() / 2] = std::numeric_limits<float>::quiet_NaN();
        break;
      default:  // the sample count alone is wrong
        break;
    }
    u.params = param_blob{std::move(values)};
    res.outcome = std::move(u);
    return res;
  }

  mode mode_;
  uint32_t id_;
  caf::actor edge_;
  caf::actor control_;
};

}  // namespace fedactor::testing
