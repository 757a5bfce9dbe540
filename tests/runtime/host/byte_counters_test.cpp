// Tests of runtime/host/byte_counters.* and of the counting in basp_guard: the guard's totals
// equal the kernel's TCP payload counts of the peer's socket (TCP_INFO tcpi_bytes_acked and
// tcpi_bytes_received on a loopback connection), and the split by BASP frame kind is exact
// for a hand-built stream.

#include "runtime/host/byte_counters.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/basp_guard.hpp"
#include "tests/support/basp_stream.hpp"

using namespace fedactor;
using namespace fedactor::testing;
namespace asio = boost::asio;
using asio::ip::tcp;

TEST_CASE("BASP operations fold into four frame kinds", "[host][bytes]") {
  CHECK(kind_of_basp_op(0) == basp_kind::handshake);
  CHECK(kind_of_basp_op(1) == basp_kind::handshake);
  CHECK(kind_of_basp_op(2) == basp_kind::message);
  CHECK(kind_of_basp_op(3) == basp_kind::message);
  CHECK(kind_of_basp_op(4) == basp_kind::monitor);
  CHECK(kind_of_basp_op(5) == basp_kind::monitor);
  CHECK(kind_of_basp_op(6) == basp_kind::heartbeat);
  CHECK(std::string{name_of(basp_kind::message)} == "message");
}

TEST_CASE("byte_counters adds the growth of a frame tally once", "[host][bytes]") {
  byte_counters c;
  std::array<uint64_t, 7> seen{};
  c.add_from_peer_frames({132, 0, 1032, 0, 0, 0, 32}, seen);
  c.add_from_peer_frames({132, 0, 1032, 0, 0, 0, 64}, seen);  // one more heartbeat
  std::array<uint64_t, 7> seen_down{};
  c.add_to_peer_frames({0, 82, 0, 0, 40, 0, 0}, seen_down);
  c.add_from_peer(1260);
  c.add_to_peer(122);
  const auto t = c.totals();
  CHECK(t.from_peers == 1260);
  CHECK(t.to_peers == 122);
  CHECK(t.from_peers_by_kind == std::array<uint64_t, 4>{132, 1032, 0, 64});
  CHECK(t.to_peers_by_kind == std::array<uint64_t, 4>{82, 0, 40, 0});
}

TEST_CASE("basp_guard counts what the kernel carries on a loopback connection, by frame kind",
          "[host][bytes][guard]") {
  // The node behind the guard: sends a server handshake (50 payload bytes), two heartbeats,
  // an edge_ins of 3,000 payload bytes and a control message of 40, then reads all the peer
  // sends.
  asio::io_context node_io;
  tcp::acceptor node{node_io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0}};
  const auto from_node =
      concat({frame(0, 50), frame(6, 0), frame(6, 0), frame(2, 3000, "fedactor::edge_ins"),
              frame(2, 40, "fedactor::node_ack")});  // 82 + 64 + 3032 + 72 = 3250
  // The peer sends a client handshake of 100 payload bytes, three heartbeats, a host_join of
  // 50 payload bytes (a client host registering), a train_res of 200,000 payload bytes
  // (several reads of the relay's 64 KiB buffer) and a direct message whose payload is junk to
  // the classifier (1,000 'x': counted as other).
  const auto sent = concat({frame(1, 100), frame(6, 0), frame(6, 0), frame(6, 0),
                            frame(2, 50, "fedactor::host_join"),
                            frame(2, 200000, "fedactor::train_res"), frame(2, 1000)});
  REQUIRE(sent.size() == 132 + 96 + 82 + 200032 + 1032);
  std::vector<char> node_got(sent.size());
  std::thread node_thread{[&] {
    tcp::socket s{node_io};
    node.accept(s);
    asio::write(s, asio::buffer(from_node));
    asio::read(s, asio::buffer(node_got));
    // Wait for the peer to close.
    char c;
    boost::system::error_code ec;
    s.read_some(asio::buffer(&c, 1), ec);
  }};

  basp_guard_config cfg;
  cfg.inner_port = node.local_endpoint().port();
  basp_guard guard{cfg};

  asio::io_context peer_io;
  tcp::socket peer{peer_io};
  peer.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), guard.port()});
  asio::write(peer, asio::buffer(sent));
  std::vector<char> peer_got(from_node.size());
  asio::read(peer, asio::buffer(peer_got));
  CHECK(peer_got == from_node);

  // The kernel's counts of the peer's socket: payload bytes it sent and the other side acked,
  // and payload bytes it received.
  REQUIRE(eventually([&] { return info_of(peer.native_handle()).bytes_acked >= sent.size() + 1; }));
  const tcp_info_bytes ti = info_of(peer.native_handle());
  REQUIRE(eventually([&] {
    const auto t = guard.bytes();
    return t.from_peers >= sent.size() && t.to_peers >= from_node.size();
  }));
  const auto t = guard.bytes();
  // tcpi_bytes_acked of the connecting side also counts the SYN's sequence number (one).
  CHECK(t.from_peers + 1 == ti.bytes_acked);
  CHECK(t.to_peers == ti.bytes_received);
  CHECK(t.from_peers == 201374);
  CHECK(t.to_peers == 3250);
  CHECK(t.from_peers_by_kind == std::array<uint64_t, 4>{132, 201146, 0, 96});
  CHECK(t.to_peers_by_kind == std::array<uint64_t, 4>{82, 3104, 0, 64});
  // task, model, result, aggregate, control, other
  CHECK(t.from_peers_by_message == std::array<uint64_t, 6>{0, 0, 200032, 0, 82, 1032});
  // The peer registered as a client host: all of its connection's bytes are a client host's.
  // (edges, client hosts, unregistered)
  CHECK(t.from_peers_by_peer == std::array<uint64_t, 3>{0, 201374, 0});
  CHECK(t.to_peers_by_peer == std::array<uint64_t, 3>{0, 3250, 0});
  CHECK(t.to_peers_by_message == std::array<uint64_t, 6>{0, 3032, 0, 0, 72, 0});
  CHECK(t.connections == 1);

  peer.close();
  node_thread.join();
  CHECK(node_got == sent);
}

TEST_CASE("byte_counters adds the growth of a message-kind tally and totals subtract",
          "[host][bytes]") {
  byte_counters c;
  byte_counters::message_tally seen{};
  c.add_from_peer_messages({10, 0, 0, 0, 5, 0}, seen);
  const auto first = c.totals();
  c.add_from_peer_messages({10, 0, 300, 0, 5, 0}, seen);
  byte_counters::message_tally seen_down{};
  c.add_to_peer_messages({0, 7, 0, 0, 0, 1}, seen_down);
  c.add_from_peer(400);
  const auto t = c.totals();
  CHECK(t.from_peers_by_message == std::array<uint64_t, 6>{10, 0, 300, 0, 5, 0});
  CHECK(t.to_peers_by_message == std::array<uint64_t, 6>{0, 7, 0, 0, 0, 1});
  const auto d = t - first;
  CHECK(d.from_peers == 400);
  CHECK(d.from_peers_by_message == std::array<uint64_t, 6>{0, 0, 300, 0, 0, 0});
  CHECK(d.to_peers_by_message == std::array<uint64_t, 6>{0, 7, 0, 0, 0, 1});
}

TEST_CASE("byte_counters moves a connection's bytes to its peer's kind once it is known",
          "[host][bytes]") {
  byte_counters c;
  c.add_peer_bytes(peer_kind::unregistered, 100, 40);
  c.add_peer_bytes(peer_kind::edge, 7, 0);
  c.move_peer_bytes(peer_kind::unregistered, peer_kind::client_host, 60, 40);
  c.add_peer_bytes(peer_kind::client_host, 5, 1);
  const auto t = c.totals();
  CHECK(t.from_peers_by_peer == std::array<uint64_t, 3>{7, 65, 40});
  CHECK(t.to_peers_by_peer == std::array<uint64_t, 3>{0, 41, 0});
}

TEST_CASE("describe names every frame kind of both directions", "[host][bytes]") {
  byte_totals t;
  t.to_peers = 146;
  t.to_peers_by_kind = {82, 0, 0, 64};
  t.from_peers = 1260;
  t.from_peers_by_kind = {132, 1032, 0, 96};
  t.connections = 1;
  t.from_peers_by_message = {0, 0, 1000, 0, 32, 0};
  CHECK(describe(t, "edges") ==
        "with the edges: 146 bytes sent (handshake 82, message 0, monitor 0, heartbeat 64; task "
        "0, model 0, result 0, aggregate 0, control 0, other 0), 1260 received (handshake 132, "
        "message 1032, monitor 0, heartbeat 96; task 0, model 0, result 1000, aggregate 0, "
        "control 32, other 0), 1 connection; by peer: edges 0 sent 0 received, client hosts 0 "
        "sent 0 received, unregistered peers 0 sent 0 received");
}
