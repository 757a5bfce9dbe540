// The server node, in process: bad options, a port already taken, edges that never come, a
// scenario whose data cannot be loaded, and a whole distributed run (server, edge and
// client host, each with its own actor system on its own thread, over 127.0.0.1) that ends
// with the summary of an in-process federation run of the same scenario.

#include "runtime/host/node_server.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/basp_message_kind.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/node_clients.hpp"
#include "runtime/host/node_edge.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/math/model_digest.hpp"
#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

server_node_options options(const scenario& sc, uint16_t port,
                            const std::shared_ptr<line_log>& log) {
  server_node_options o;
  o.sc = sc;
  o.listen = loopback(port);
  o.net = test_net();
  o.join_timeout = 300ms;
  o.log = sink(log);
  return o;
}

// What run_server_node threw (its one line), or "" if it returned; "hung" if it did not end
// within `bound`.
std::string failure_of(const server_node_options& o, std::chrono::milliseconds bound = 30s) {
  background<bool> node{[o] {
    run_server_node(o);
    return true;
  }};
  if (!node.finished(bound)) return "hung";
  try {
    node.get();
    return "";
  } catch (const std::runtime_error& e) {
    return e.what();
  }
}

}  // namespace

TEST_CASE("a server with incomplete TLS options throws one line", "[host]") {
  auto log = std::make_shared<line_log>();
  auto o = options(small_scenario(), 0, log);
  o.net.tls_ca = "/nonexistent/ca.pem";
  CHECK(failure_of(o) == "TLS needs all of --tls-cert, --tls-key and --tls-ca");
  CHECK(log->lines().empty());
}

TEST_CASE("a server that cannot listen throws naming the address", "[host]") {
  loopback_socket taken{true};
  REQUIRE(taken.port() != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(small_scenario(), taken.port(), log);
  bool listening = false;
  o.on_listening = [&listening](uint16_t) { listening = true; };
  const std::string what = failure_of(o);
  INFO(what);
  CHECK(what.rfind("cannot listen on 127.0.0.1:" + std::to_string(taken.port()) + ": ", 0) == 0);
  CHECK(what.find('\n') == std::string::npos);
  CHECK_FALSE(listening);
}

TEST_CASE("a server whose edges do not all join within the join timeout throws", "[host]") {
  auto log = std::make_shared<line_log>();
  auto sc = small_scenario();
  sc.topology.edges = 2;
  auto o = options(sc, 0, log);
  auto port = std::make_shared<handoff<uint16_t>>();
  o.on_listening = port->setter();
  const std::string what = failure_of(o);
  CHECK(what == "not every edge joined within 300ms: request_timeout");
  auto p = port->wait(0ms);
  REQUIRE(p);
  CHECK(*p != 0);
  INFO(log->dump());
  REQUIRE_FALSE(log->lines().empty());
  CHECK(log->lines()[0] == "listening on 127.0.0.1:" + std::to_string(*p) +
                               ", waiting for 2 edges; heartbeat 100ms, connection timeout 5s");
}

TEST_CASE("a server whose scenario data cannot be loaded throws naming the file", "[host]") {
  auto log = std::make_shared<line_log>();
  auto sc = small_scenario();
  sc.data.kind = data_kind::fashion_mnist;
  sc.data.path = "/nonexistent/fedactor-fmnist";
  auto o = options(sc, 0, log);
  bool listening = false;
  o.on_listening = [&listening](uint16_t) { listening = true; };
  const std::string what = failure_of(o);
  INFO(what);
  CHECK(what.rfind("/nonexistent/fedactor-fmnist/", 0) == 0);
  CHECK(what.find("no such file") != std::string::npos);
  CHECK_FALSE(listening);  // nothing published
}

TEST_CASE("server edge and client host nodes in one process give the summary of a federation run",
          "[host]") {
  const scenario sc = small_scenario();
  auto slog = std::make_shared<line_log>();
  auto elog = std::make_shared<line_log>();
  auto clog = std::make_shared<line_log>();
  auto rounds = std::make_shared<std::vector<round_record>>();
  auto rounds_mu = std::make_shared<std::mutex>();

  auto server_port = std::make_shared<handoff<uint16_t>>();
  auto so = options(sc, 0, slog);
  so.join_timeout = 60s;
  so.on_listening = server_port->setter();
  so.on_round = [rounds, rounds_mu](const round_record& r) {
    std::lock_guard<std::mutex> guard{*rounds_mu};
    rounds->push_back(r);
  };
  background<server_node_result> server{[so] { return run_server_node(so); }};
  auto sp = server_port->wait(30s);
  INFO("server:\n" << slog->dump());
  REQUIRE(sp);

  auto edge_port = std::make_shared<handoff<uint16_t>>();
  edge_node_options eo;
  eo.server = loopback(*sp);
  eo.listen = loopback(0);
  eo.id = 0;
  eo.trainers = 1;
  eo.wait_hosts = 1;  // the client host trains
  eo.join_timeout = 30s;
  eo.net = test_net();
  eo.on_listening = edge_port->setter();
  eo.log = sink(elog);
  background<int> edge{[eo] { return run_edge_node(eo); }};
  auto ep = edge_port->wait(30s);
  INFO("edge:\n" << elog->dump());
  REQUIRE(ep);

  clients_node_options co;
  co.edge = loopback(*ep);
  co.first = 0;
  co.last = sc.population.clients - 1;
  co.trainers = 1;
  co.join_timeout = 30s;
  co.net = test_net();
  co.log = sink(clog);
  background<int> clients{[co] { return run_clients_node(co); }};

  const bool done = server.finished(120s);
  INFO("server:\n" << slog->dump() << "edge:\n" << elog->dump() << "clients:\n" << clog->dump());
  REQUIRE(done);
  auto dist = server.get();
  REQUIRE(edge.finished(30s));
  CHECK(edge.get() == 0);
  REQUIRE(clients.finished(30s));
  CHECK(clients.get() == 0);
  auto end = clog->find("shutdown: run complete (");
  REQUIRE(end);
  CHECK(end->find("(0 tasks") == std::string::npos);  // the client host did the training
  CHECK(slog->find("told 1 edge node that the run is over"));
  {
    std::lock_guard<std::mutex> guard{*rounds_mu};
    CHECK(rounds->size() == sc.protocol.rounds);
  }

  system_config cfg;
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  federation fl{sys, sc};
  auto ref = fl.run();
  const auto& a = dist.result.summary;
  const auto& b = ref.summary;
  CHECK(a.model_sha256 == b.model_sha256);
  CHECK(dist.result.model == ref.model);
  CHECK(a.scenario == b.scenario);
  CHECK(a.protocol == b.protocol);
  CHECK(a.rounds == b.rounds);
  CHECK(a.clients_trained == b.clients_trained);
  CHECK(a.clients_trained == sc.protocol.rounds * sc.selection.clients_per_round);
  CHECK(a.failures == 0);
  CHECK(a.failures == b.failures);
  CHECK(a.final_loss == Approx(b.final_loss));
  CHECK(a.model_l2 == Approx(b.model_l2));
  CHECK(a.num_params == b.num_params);
  CHECK(a.registered_clients == b.registered_clients);
  CHECK(a.sim_time_s == Approx(b.sim_time_s));
  CHECK(dist.spec.num_params() == ref.model.size());
  // Model bytes down: computed where the server sends them, the same in both runs (one edge,
  // one edge_ins per round, 4 bytes per parameter).
  CHECK(a.model_bytes_down == b.model_bytes_down);
  CHECK(a.model_bytes_down == uint64_t{sc.protocol.rounds} * 4 * ref.model.size());
  // Measured by the server's guard (plain TCP): the edge_ins are the model bytes plus their
  // framing and client lists, the edge_res the aggregates; every payload head was readable.
  REQUIRE(a.net_bytes_counted);
  const auto model = static_cast<size_t>(message_kind::model);
  const auto aggregate = static_cast<size_t>(message_kind::aggregate);
  const auto other = static_cast<size_t>(message_kind::other);
  CHECK(a.net_bytes_down_by_message[model] > a.model_bytes_down);
  CHECK(a.net_bytes_down_by_message[model] < a.model_bytes_down + sc.protocol.rounds * 4096);
  CHECK(a.net_bytes_up_by_message[aggregate] > 0);
  CHECK(a.net_bytes_down_by_message[other] == 0);
  CHECK(a.net_bytes_up_by_message[other] == 0);
  uint64_t split = 0;
  for (auto n : a.net_bytes_down_by_message) split += n;
  CHECK(split <= a.net_bytes_down);
  {
    std::lock_guard<std::mutex> guard{*rounds_mu};
    uint64_t model_in_rounds = 0;
    for (const auto& r : *rounds) model_in_rounds += r.net_bytes_down_by_message[model];
    CHECK(model_in_rounds == a.net_bytes_down_by_message[model]);
  }
  // The edge's link to its client host: all of it a client host's once it registered.
  auto bytes_line = elog->find("bytes with the client hosts: ");
  REQUIRE(bytes_line);
  CHECK(bytes_line->find("unregistered peers 0 sent 0 received") != std::string::npos);
  CHECK(bytes_line->find("client hosts 0 sent") == std::string::npos);
}

TEST_CASE(
    "a server node stopped while it waits for its edges runs no round and returns the "
    "initial model, marked interrupted",
    "[host][stop]") {
  auto log = std::make_shared<line_log>();
  auto sc = small_scenario();
  auto o = options(sc, 0, log);
  o.join_timeout = caf::timespan{0};  // wait as long as it takes: only the stop ends it
  o.stop = std::make_shared<stop_switch>();
  auto stop = o.stop;
  o.on_listening = [stop](uint16_t) { stop->request("SIGTERM"); };
  background<server_node_result> node{[o] { return run_server_node(o); }};
  REQUIRE(node.finished(60s));
  auto res = node.get();
  INFO(log->dump());
  const auto& sum = res.result.summary;
  CHECK(sum.interrupted);
  CHECK(sum.stopped_by == "SIGTERM");
  CHECK(sum.rounds == 0);
  CHECK(res.result.model == initial_params(res.spec, sc.seed));
  CHECK(sum.model_sha256 == model_sha256(res.result.model));
  CHECK(log->find("stopped (SIGTERM) before every edge joined: no round was run").has_value());
}
