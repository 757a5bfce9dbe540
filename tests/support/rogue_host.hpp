#pragma once

// A rogue client host for the hostile node tests: an actor system in the test process that
// joins a listening `fedactor node edge` over the network for client ids first..last, exactly
// as `fedactor node clients` does (node_hello with the protocol version, then host_join with
// its actor handle), and answers every task (host_task) itself, keeping no models (a task by
// reference is answered model_missing, so the edge sends it again with the model):
//
//   - fail_all: training failed (an error, as an honest host whose training threw);
//   - hostile: a well-formed train_res that the edge's checks refuse, the n-th answer (from 0)
//     for reason n % 4 (hostile_reasons: what the edge's log line says). Non-finite values are
//     not among them: the edge checks the sample count first, and the rogue cannot know it.
//
// Either way the client adds nothing to the model, so a run against a hostile rogue must give
// the model of the same run against a fail_all one. Handles node_shutdown (node_ack).
//
// A sync batch (host_batch, host aggregation) counts one answer per client: fail_all fails it
// (an error), hostile answers an edge_res that claims one more sample for every client than the
// edge's registry holds, with an aggregate of one update per client (the edge refuses it whole).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "actors/edge_node.hpp"
#include "messages/errors.hpp"
#include "messages/host_batch.hpp"
#include "messages/host_task.hpp"
#include "messages/node.hpp"
#include "messages/train.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/client_report.hpp"
#include "tests/support/rogue_peer.hpp"

namespace fedactor::testing {

class rogue_host : public rogue_peer {
 public:
  enum class mode { fail_all, hostile };

  // What the n-th hostile answer does wrong (n % 4), as the edge's refusal says it.
  static std::vector<std::string> hostile_reasons() {
    return {"parameters, expected",       // 3 values more than the model
            "answer for client 1000007",  // a client outside the population
            "claims 987654321 samples",   // a sample count that is not the client's
            "answer for round "};         // another round
  }

  rogue_host(mode m, uint32_t first, uint32_t last, node_net_options net)
      : rogue_peer(std::move(net)), mode_(m), first_(first), last_(last) {}

  ~rogue_host() {
    if (host_) caf::anon_send_exit(host_, caf::exit_reason::user_shutdown);
  }

  // Hello and join at the edge on 127.0.0.1:port (connecting as a real client host does:
  // tried again with backoff for up to `timeout`). Empty on success, else why not.
  std::string join(uint16_t port, caf::timespan timeout = std::chrono::seconds(60)) {
    auto edge =
        connect_with_retry<edge_node_actor>(sys_, host_port{"127.0.0.1", port}, net_, timeout);
    if (!edge) return "cannot connect: " + sys_.render(edge.error());
    auto welcome = ask_watching<node_welcome>(sys_, *edge, timeout,
                                              node_hello{"clients", first_, node_protocol_version});
    if (!welcome) return "hello refused: " + sys_.render(welcome.error());
    auto st = state_;
    const auto m = mode_;
    host_ = sys_.spawn([st, m]() -> caf::behavior {
      return {[st, m](host_task& t) -> caf::result<train_res> {
                if (t.model_by_reference)
                  return make_error(errc::model_missing, "rogue host keeps no models");
                return answer(*st, m, t.ins);
              },
              [st, m](host_batch& b) -> caf::result<edge_res> {
                if (b.model_by_reference)
                  return make_error(errc::model_missing, "rogue host keeps no models");
                return answer_batch(*st, m, b.ins);
              },
              [](node_shutdown&) {
                return node_ack{true, "rogue host leaving"};
              }};
    });
    auto ack =
        ask_watching<node_ack>(sys_, *edge, timeout, host_join{first_, last_, "rogue", host_});
    if (!ack) return "join failed: " + sys_.render(ack.error());
    if (!ack->accepted) return "join refused: " + ack->message;
    return {};
  }

 private:
  static caf::result<edge_res> answer_batch(shared& st, mode m, const edge_ins& ins) {
    for (size_t i = 0; i < ins.clients.size(); ++i) next_answer(st);
    if (m == mode::fail_all) return make_error(errc::training_failed, "rogue host: no training");
    weighted_accumulator acc(ins.model.size());
    std::vector<client_report> reports;
    for (auto c : ins.clients) {
      acc.add(ins.model.data(), 1.0, 0.5);
      reports.push_back(client_report{c, 987654321, 0.5, 0});
    }
    edge_res res;
    res.round = ins.round;
    res.aggregate = acc.serialize();
    res.reports = encode_client_reports(reports);
    return res;
  }

  static caf::result<train_res> answer(shared& st, mode m, const train_ins& ins) {
    const uint32_t n = next_answer(st) - 1;
    if (m == mode::fail_all) return make_error(errc::training_failed, "rogue host: no training");
    train_res res;
    res.round = ins.round;
    res.client = ins.client;
    res.model_version = ins.model_version;
    res.num_samples = 987654321;  // never the client's: refused for it where nothing comes first
    res.loss = 0.5;
    std::vector<float> values = ins.model.values();
    switch (n % 4) {
      case 0:
        values.resize(values.size() + 3, 0.0f);
        break;
      case 1:
        res.client = 1000007;
        break;
      case 2:
        break;
      default:
        res.round = ins.round + 3;
    }
    res.params = param_blob{std::move(values)};
    return res;
  }

  mode mode_;
  uint32_t first_;
  uint32_t last_;
  caf::actor host_;
};

}  // namespace fedactor::testing
