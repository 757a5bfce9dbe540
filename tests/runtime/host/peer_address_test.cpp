// Tests of runtime/host/peer_address.*: a connected node named by IP:port, through a BASP guard
// by the peer the guard relays, an unknown node by nothing. Two actor systems in this process,
// 127.0.0.1 only.

#include "runtime/host/peer_address.hpp"

#include <chrono>
#include <regex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/node_net.hpp"
#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

TEST_CASE(
    "peer_address names a node by the address it connects from, through the guard by the "
    "peer it relays, and an unknown node by nothing",
    "[host]") {
  system_config a_cfg, b_cfg, c_cfg;
  configure(a_cfg, test_net());
  configure(b_cfg, test_net());
  configure(c_cfg, test_net());
  caf::actor_system a{a_cfg};
  caf::actor_system b{b_cfg};
  caf::actor_system c{c_cfg};  // never connected to a
  auto echo =
      a.spawn([](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
  // Plain TCP: a listens behind its guard; b connects to the guard's port.
  auto listening = listen_on(a, echo, loopback(0), test_net(), 1u << 20, {});
  REQUIRE(listening);
  REQUIRE(listening->guard);
  auto h = connect_to<caf::actor>(b, loopback(listening->port), test_net());
  REQUIRE(h);
  // b's side: a direct connection to the port it dialled.
  CHECK(peer_address(b, a.node(), false) == "127.0.0.1:" + std::to_string(listening->port));
  // a's side: its middleman sees the guard's relay; through the guard it is b's own end.
  const std::string relay = peer_address(a, b.node(), false);
  const std::string origin = peer_address(a, b.node(), true);
  const std::regex ip_port{R"(127\.0\.0\.1:[1-9][0-9]*)"};
  CHECK(std::regex_match(relay, ip_port));
  CHECK(std::regex_match(origin, ip_port));
  CHECK(origin != relay);  // two sockets on one host: two ports
  // A node a has no connection to, and a itself: nothing to name.
  CHECK(peer_address(a, c.node(), true, 500ms).empty());
  CHECK(peer_address(a, a.node(), false).empty());
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}
