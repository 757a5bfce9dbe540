// The edge node, in process: bad options, an unreachable server, a server that refuses (a
// stand-in registrar), an id out of range, a port already taken, and with the real registrar
// published on 127.0.0.1: registration, a second edge with the same id refused, the end of
// the run (exit 0), the loss of the server (exit 1 after the join timeout), a server restarted
// on the same address (registered again) or with another scenario (exit 2). The full run is in
// node_server_test.cpp.

#include "runtime/host/node_edge.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/registrar.hpp"
#include "messages/errors.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/scenario/load.hpp"
#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

// The server's registrar, published on 127.0.0.1:0 in its own actor system.
struct test_server {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  registrar_control_actor reg;
  uint16_t port = 0;
  std::shared_ptr<line_log> log = std::make_shared<line_log>();

  explicit test_server(const scenario& sc, const node_net_options& net = test_net(),
                       uint16_t at = 0) {
    configure(cfg, net);
    sys = std::make_unique<caf::actor_system>(cfg);
    reg = sys->spawn(registrar, registrar_config{to_yaml(sc), sc.topology.edges, sink(log)});
    auto p = publish_on(*sys, registrar_actor{reg}, loopback(at), net);
    if (p) port = *p;
  }

  // Tells the registered edges that the run is over; how many acknowledged.
  uint32_t close(const std::string& reason) {
    caf::scoped_actor self{*sys};
    uint32_t acked = 0;
    self->request(reg, 20s, close_atom::value, reason)
        .receive([&](uint32_t n) { acked = n; }, [](caf::error&) {});
    return acked;
  }

  ~test_server() {
    if (reg) caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
  }
};

// A registrar stand-in whose hello answer is `hello`; its join is refused, or with
// `dies_on_join` it exits without answering (a server killed while it holds the join).
struct fake_server {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  registrar_actor actor;
  uint16_t port = 0;

  explicit fake_server(std::function<caf::result<node_welcome>(const node_hello&)> hello,
                       bool dies_on_join = false) {
    configure(cfg, test_net());
    sys = std::make_unique<caf::actor_system>(cfg);
    actor = sys->spawn(
        [hello, dies_on_join](registrar_actor::pointer self) -> registrar_actor::behavior_type {
          return {
              [hello](node_hello& h) -> caf::result<node_welcome> { return hello(h); },
              [self, dies_on_join](edge_join&) -> caf::result<node_ack> {
                if (dies_on_join) {
                  self->quit();
                  return caf::delegated<node_ack>{};
                }
                return node_ack{false, "not here"};
              },
          };
        });
    auto p = sys->middleman().publish(actor, 0, "127.0.0.1");
    if (p) port = *p;
  }

  ~fake_server() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }
};

edge_node_options options(uint16_t server_port, uint32_t id, const std::shared_ptr<line_log>& log,
                          std::shared_ptr<handoff<uint16_t>> listening = nullptr) {
  edge_node_options o;
  o.server = loopback(server_port);
  o.listen = loopback(0);
  o.id = id;
  o.trainers = 1;
  o.join_timeout = 300ms;
  o.net = test_net();
  o.log = sink(log);
  if (listening) o.on_listening = listening->setter();
  return o;
}

int run_bounded(const edge_node_options& o, std::chrono::milliseconds bound = 30s) {
  background<int> node{[o] { return run_edge_node(o); }};
  if (!node.finished(bound)) return -1;
  return node.get();
}

}  // namespace

TEST_CASE("an edge with incomplete TLS options exits 2 with one line", "[host]") {
  auto log = std::make_shared<line_log>();
  auto o = options(free_port(), 0, log);
  o.net.tls_key = "/nonexistent/key.pem";
  o.net.tls_ca = "/nonexistent/ca.pem";
  CHECK(run_bounded(o) == 2);
  INFO(log->dump());
  REQUIRE(log->lines().size() == 1);
  CHECK(log->lines()[0] == "error: TLS needs all of --tls-cert, --tls-key and --tls-ca");
}

TEST_CASE("an edge whose server is unreachable gives up after its join timeout, exit 1", "[host]") {
  auto log = std::make_shared<line_log>();
  const uint16_t port = free_port();
  REQUIRE(port != 0);
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(run_bounded(options(port, 0, log)) == 1);
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
  INFO(log->dump());
  const std::string address = "127.0.0.1:" + std::to_string(port);
  REQUIRE(log->lines().size() == 2);
  CHECK(log->lines()[0] == "connecting to the server at " + address);
  CHECK(log->lines()[1].rfind("error: cannot reach the server at " + address + ": ", 0) == 0);
  CHECK(log->lines()[1].find("cannot_connect_to_node") != std::string::npos);
}

TEST_CASE("an edge whose hello is refused exits 2 naming the reason", "[host]") {
  fake_server server{[](const node_hello&) -> caf::result<node_welcome> {
    return make_error(errc::bad_request, "protocol version 1, this server speaks 9");
  }};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  CHECK(run_bounded(options(server.port, 0, log)) == 2);
  INFO(log->dump());
  CHECK(log->find("error: the server at 127.0.0.1:" + std::to_string(server.port) +
                  " refused the hello: bad_request: protocol version 1, this server speaks 9"));
}

TEST_CASE("an edge whose server is lost while it holds the join says so and tries again",
          "[host]") {
  const std::string yaml = to_yaml(small_scenario());
  fake_server server{[yaml](const node_hello&) -> caf::result<node_welcome> {
                       return node_welcome{yaml, 1};
                     },
                     true};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(server.port, 0, log);
  o.join_timeout = 2s;
  CHECK(run_bounded(o) == 1);
  INFO(log->dump());
  const std::string address = "127.0.0.1:" + std::to_string(server.port);
  auto lost = log->find("lost: the server at " + address +
                        " before it answered the join; "
                        "trying again for up to ");
  REQUIRE(lost);
  CHECK_FALSE(log->find("registered with the server"));
  // Its published actor is gone: the next attempts cannot reach it, and the edge gives up.
  CHECK(log->find("error: cannot reach the server at " + address));
}

TEST_CASE("an edge given a bad scenario by its server exits 2", "[host]") {
  fake_server server{[](const node_hello&) -> caf::result<node_welcome> {
    return node_welcome{"protocol: {rounds: -3}\n", 1};
  }};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  CHECK(run_bounded(options(server.port, 0, log)) == 2);
  INFO(log->dump());
  auto line = log->find("error: scenario from the server");
  REQUIRE(line);
  CHECK(line->find("protocol.rounds") != std::string::npos);
}

TEST_CASE("an edge id outside the scenario's topology exits 2", "[host]") {
  test_server server{small_scenario()};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  CHECK(run_bounded(options(server.port, 3, log)) == 2);
  INFO(log->dump());
  CHECK(log->find("error: --id 3 out of range: the scenario has 1 edges (ids 0..0)"));
}

TEST_CASE("an edge that cannot listen exits 1 naming the address", "[host]") {
  test_server server{small_scenario()};
  REQUIRE(server.port != 0);
  loopback_socket taken{true};
  REQUIRE(taken.port() != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(server.port, 0, log);
  o.listen = loopback(taken.port());
  CHECK(run_bounded(o) == 1);
  INFO(log->dump());
  CHECK(log->find("error: cannot listen on 127.0.0.1:" + std::to_string(taken.port()) + ": "));
  CHECK_FALSE(log->find("registered with the server"));
}

TEST_CASE("an edge registers, a second edge with its id is refused, the end of the run exits 0",
          "[host]") {
  test_server server{small_scenario()};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  auto listening = std::make_shared<handoff<uint16_t>>();
  auto o = options(server.port, 0, log, listening);
  o.region = "eu";
  o.capacity = 7;
  background<int> edge{[o] { return run_edge_node(o); }};
  auto port = listening->wait(30s);
  INFO(log->dump());
  REQUIRE(port);
  REQUIRE(*port != 0);
  const std::string address = "127.0.0.1:" + std::to_string(*port);
  const std::string server_address = "127.0.0.1:" + std::to_string(server.port);
  REQUIRE(log->wait_for("registered with the server", 30s));
  CHECK(log->find("listening on " + address +
                  " for client hosts and child edges; edge 0 of 1, capacity 7"));
  CHECK(log->find("registered with the server at " + server_address + " as edge 0"));
  CHECK(server.log->find("edge 0 joined (clients at " + address + ", region 'eu', capacity 7)"));

  auto second_log = std::make_shared<line_log>();
  CHECK(run_bounded(options(server.port, 0, second_log)) == 2);
  INFO(second_log->dump());
  CHECK(second_log->find("error: the server at " + server_address +
                         " refused edge 0: edge id 0 is already registered (" + address +
                         ") and alive"));

  CHECK(server.close("run complete") == 1);
  REQUIRE(edge.finished(30s));
  CHECK(edge.get() == 0);
  CHECK(log->find("shutdown: run complete"));
}

TEST_CASE("an edge whose server goes away exits 1", "[host]") {
  auto server = std::make_unique<test_server>(small_scenario());
  REQUIRE(server->port != 0);
  auto log = std::make_shared<line_log>();
  background<int> edge{[o = options(server->port, 0, log)] { return run_edge_node(o); }};
  INFO(log->dump());
  REQUIRE(log->wait_for("registered with the server", 30s));
  server.reset();  // the registrar exits and its process goes away
  REQUIRE(edge.finished(30s));
  CHECK(edge.get() == 1);
  INFO(log->dump());
  CHECK(log->find("lost: the server ("));
  // It tried for its join timeout before giving up.
  CHECK(log->find("; reconnecting for up to 300ms (its client hosts stay)"));
  CHECK(log->find("error: cannot reach the server at 127.0.0.1:"));
}

TEST_CASE("an edge whose server restarts on the same address registers again", "[host]") {
  auto server = std::make_unique<test_server>(small_scenario());
  const uint16_t port = server->port;
  REQUIRE(port != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(port, 0, log);
  o.join_timeout = 60s;  // the reconnection window
  background<int> edge{[o] { return run_edge_node(o); }};
  INFO(log->dump());
  REQUIRE(log->wait_for("registered with the server", 30s));
  server.reset();  // gone, as after kill -9
  REQUIRE(log->wait_for("lost: the server (", 30s));
  server = std::make_unique<test_server>(small_scenario(), test_net(), port);
  REQUIRE(server->port == port);
  REQUIRE(log->wait_for(
      "registered again with the server at 127.0.0.1:" + std::to_string(port) + " as edge 0", 30s));
  CHECK(server->log->wait_for("edge 0 joined", 10s));
  // The new server's end of the run ends the edge as usual.
  CHECK(server->close("run complete") == 1);
  REQUIRE(edge.finished(30s));
  CHECK(edge.get() == 0);
}

TEST_CASE("an edge whose server comes back with another scenario exits 2", "[host]") {
  auto server = std::make_unique<test_server>(small_scenario());
  const uint16_t port = server->port;
  REQUIRE(port != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(port, 0, log);
  o.join_timeout = 60s;
  background<int> edge{[o] { return run_edge_node(o); }};
  INFO(log->dump());
  REQUIRE(log->wait_for("registered with the server", 30s));
  server.reset();
  REQUIRE(log->wait_for("lost: the server (", 30s));
  auto other = small_scenario();
  other.seed = 6;
  server = std::make_unique<test_server>(other, test_net(), port);
  REQUIRE(server->port == port);
  REQUIRE(edge.finished(30s));
  CHECK(edge.get() == 2);
  CHECK(log->find("error: the server at 127.0.0.1:" + std::to_string(port) +
                  " came back with another scenario; this edge serves the run it joined"));
  CHECK_FALSE(server->log->find("edge 0 joined"));
}

TEST_CASE("an edge whose certificate the server refuses exits 1, the refusal logged", "[host]") {
  test_pki pki{"edge_tls"};
  REQUIRE(pki.ok());
  test_server server{small_scenario(), pki.tls("node", "ca")};
  REQUIRE(server.port != 0);
  auto log = std::make_shared<line_log>();
  auto o = options(server.port, 0, log);
  o.net = pki.tls("rogue", "ca");  // certified by another CA
  o.join_timeout = caf::timespan{0};
  const int code = run_bounded(o);
  set_tls_refusal_log({});  // the edge installs the process-wide sink (and may leave it)
  CHECK(code == 1);
  INFO(log->dump());
  const std::string address = "127.0.0.1:" + std::to_string(server.port);
  CHECK(log->find("connecting to the server at " + address + " (TLS)"));
  // What the edge was told. The peer address is read when the failure is reported; once the
  // server has reset the connection it is gone ("unknown peer").
  auto told = log->find("TLS: handshake with ");
  REQUIRE(told);
  CHECK((told->rfind("TLS: handshake with " + address + " failed: ", 0) == 0 ||
         told->rfind("TLS: handshake with unknown peer failed: ", 0) == 0));
  CHECK(told->find("unknown ca") != std::string::npos);
  auto error = log->find("error: cannot reach the server at " + address + ": ");
  REQUIRE(error);
  CHECK(error->find("disconnect_during_handshake") != std::string::npos);
  CHECK_FALSE(server.log->find("joined"));
}
