// Tests of runtime/host/basp_guard.* through listen_on (runtime/host/node_net.hpp): an actor
// published in plain TCP is reached through the guard as before, while the byte sequences that
// crash or exhaust libcaf_io 0.17.6 are refused with one line naming the peer and leave the
// node serving. Both actor systems live in this process: a crash is the test's.

#include "runtime/host/basp_guard.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/node_net.hpp"
#include "tests/runtime/host/node_test_support.hpp"
#include "tests/support/raw_peer.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

caf::behavior doubler() {
  return {[](int32_t x) { return 2 * x; }};
}

struct guarded_node {
  system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<line_log> log = std::make_shared<line_log>();
  caf::actor actor;
  listening_port where;

  guarded_node() : sys(make_config(cfg)) {
    actor = sys.spawn(doubler);
    auto l = listen_on(sys, actor, loopback(0), test_net(), 4096, sink(log));
    REQUIRE(l);
    where = *l;
  }
  ~guarded_node() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }
  static system_config& make_config(system_config& c) {
    configure(c, test_net());
    return c;
  }
};

// A request from a second actor system, through the guard.
int32_t ask_through(uint16_t port) {
  system_config cfg;
  configure(cfg, test_net());
  caf::actor_system client{cfg};
  auto h = connect_to<caf::actor>(client, loopback(port), test_net());
  REQUIRE(h);
  caf::scoped_actor self{client};
  int32_t got = 0;
  self->request(*h, std::chrono::seconds(30), int32_t{21})
      .receive([&](int32_t x) { got = x; }, [&](caf::error& err) { FAIL(client.render(err)); });
  return got;
}

}  // namespace

TEST_CASE("basp_guard relays a peer's requests to the node's actor", "[host][net][guard]") {
  guarded_node node;
  REQUIRE(node.where.guard);
  CHECK(node.where.port == node.where.guard->port());
  CHECK(ask_through(node.where.port) == 42);
  CHECK(ask_through(node.where.port) == 42);  // and again, a second peer
  CHECK(node.where.guard->refused() == 0);
}

TEST_CASE("basp_guard refuses malformed frames with one line per peer and keeps serving",
          "[host][net][guard]") {
  guarded_node node;
  const uint16_t port = node.where.port;
  // The reported crash: 8 zero bytes, then 7f ff ff ff, then 64 random bytes.
  CHECK(send_raw(port,
                 {std::vector<char>(8, 0), bytes({0x7f, 0xff, 0xff, 0xff}), noise(64, 7, 'r')}));
  REQUIRE(node.log->wait_for("frame 1: a malformed server handshake header", 10s));
  // A header announcing 2^31 payload bytes (a client handshake).
  CHECK(send_raw(port, {basp_header(1, 0x80000000u)}));
  REQUIRE(node.log->wait_for("announcing 2147483648 payload bytes (at most 4096)", 10s));
  // An unknown frame type, and random bytes.
  CHECK(send_raw(port, {basp_header(0x42, 0)}));
  REQUIRE(node.log->wait_for("unknown BASP frame type 66", 10s));
  CHECK(send_raw(port, {noise(200, 9, 7)}));
  REQUIRE(node.log->wait_for("unknown BASP frame type 7", 10s));
  CHECK(node.where.guard->refused() == 4);
  const auto line = node.log->find("malformed server handshake");
  REQUIRE(line);
  CHECK(line->find("refused peer 127.0.0.1:") == 0);
  CHECK(line->find("; connection closed") != std::string::npos);
  // The node still serves.
  CHECK(ask_through(port) == 42);
}

TEST_CASE("basp_guard logs a peer gone inside a frame and drops one silent there",
          "[host][net][guard]") {
  guarded_node node;  // connection timeout 5 s: the guard's frame timeout
  const uint16_t port = node.where.port;
  // A client handshake announcing 100 payload bytes, 10 of them sent, then the close.
  auto cut = basp_header(1, 100);
  cut.insert(cut.end(), 10, 'p');
  CHECK(send_and_close(port, {cut}));
  auto line = node.log->wait_for(
      "inside a frame: frame 1: a client handshake cut short after 10 of 100", 10s);
  REQUIRE(line);
  CHECK(line->find("peer 127.0.0.1:") == 0);
  CHECK(line->find("; connection closed") != std::string::npos);
  // Half a header, then the close.
  const auto header = basp_header(1, 100);
  CHECK(send_and_close(port, {std::vector<char>(header.begin(), header.begin() + 20)}));
  REQUIRE(node.log->wait_for("a header cut short after 20 of 32 bytes; connection closed", 10s));
  CHECK(node.where.guard->truncated() == 2);
  // A peer that stays silent after 10 payload bytes: the node serves others meanwhile, and
  // drops it after the frame timeout.
  raw_connection silent{port};
  REQUIRE(silent.send({cut}));
  CHECK(ask_through(port) == 42);
  CHECK(silent.closed_by_peer(30));
  line = node.log->wait_for("then nothing for 5000 ms; connection closed", 10s);
  REQUIRE(line);
  CHECK(line->find("refused peer 127.0.0.1:") == 0);
  CHECK(line->find("frame 1: a client handshake cut short after 10 of 100 payload bytes") !=
        std::string::npos);
  CHECK(node.where.guard->truncated() == 3);
  CHECK(node.where.guard->refused() == 0);
  CHECK(ask_through(port) == 42);
}

TEST_CASE("listen_on without TLS cannot listen on a port in use: an error, nothing published",
          "[host][net][guard]") {
  loopback_socket taken{true};
  system_config cfg;
  configure(cfg, test_net());
  caf::actor_system sys{cfg};
  auto a = sys.spawn(doubler);
  auto l = listen_on(sys, a, loopback(taken.port()), test_net(), 4096, {});
  REQUIRE_FALSE(l);
  CHECK(describe_net_error(sys, l.error())
            .find("cannot listen on 127.0.0.1:" + std::to_string(taken.port())) !=
        std::string::npos);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_CASE("guarded_peer_origin names the peer a relay's connection to the node stands for",
          "[host][net][guard]") {
  namespace asio = boost::asio;
  using asio::ip::tcp;
  asio::io_context io;
  // The node's inner port: a plain listener here, to see the relay's connection arrive.
  tcp::acceptor inner{io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  tcp::socket peer{io};
  tcp::socket at_node{io};
  uint16_t relay_port = 0;
  {
    basp_guard_config cfg;
    cfg.inner_port = inner.local_endpoint().port();
    basp_guard guard{cfg};
    peer.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), guard.port()});
    inner.accept(at_node);  // the guard notes the origin before its connect handler returns
    relay_port = at_node.remote_endpoint().port();
    // One byte through, so the relay's connect handler has run by the time it arrives.
    asio::write(peer, asio::buffer("\0", 1));
    char got = 1;
    asio::read(at_node, asio::buffer(&got, 1));
    CHECK(got == 0);
    const std::string expected = "127.0.0.1:" + std::to_string(peer.local_endpoint().port());
    CHECK(guarded_peer_origin(relay_port) == expected);
    CHECK_FALSE(guarded_peer_origin(peer.local_endpoint().port()));  // not a relay's port
  }
  // The guard is gone with its relays: the port stands for nobody now.
  CHECK_FALSE(guarded_peer_origin(relay_port));
}
