// Tests of actors/registrar.*: the server node's hello, edge registration, roster, rejoin
// forwarding and shutdown, in one process with stand-in edges and edge-node controls.

#include "actors/registrar.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/node_actor_helpers.hpp"

using namespace fedactor;
using fedactor::testing::join;
using fedactor::testing::log_atom;
using fedactor::testing::next_log;
using fedactor::testing::reaper;
using fedactor::testing::refused_hello;
using fedactor::testing::request_for;

namespace {

constexpr auto wait = std::chrono::seconds(60);

using told_atom = caf::atom_constant<caf::atom("told")>;

// A stand-in edge actor or edge-node control: acknowledges node_shutdown (or refuses it
// when !ok) and tells `notify` (if any) (told, id, reason).
caf::actor stand_in(caf::actor_system& sys, uint32_t id = 0, caf::actor notify = nullptr,
                    bool ok = true) {
  return sys.spawn([=]() -> caf::behavior {
    return {[=](node_shutdown& s) -> caf::result<node_ack> {
      if (notify) caf::anon_send(notify, told_atom::value, id, s.reason);
      if (!ok) return make_error(errc::bad_request, "stand-in refuses");
      return node_ack{true, "bye"};
    }};
  });
}

// The registrar's log lines go to `me` as (log, line).
registrar_config logged_config(caf::scoped_actor& self, uint32_t edges) {
  auto me = caf::actor_cast<caf::actor>(self);
  return registrar_config{"name: x\n", edges, [me](const std::string& line) {
                            caf::anon_send(me, log_atom::value, line);
                          }};
}

// The registrar's note when edge `id` dies (killed) before the run.
std::string lost_line(uint32_t id) {
  return "edge " + std::to_string(id) + " lost before the run started (" +
         describe(caf::make_error(caf::exit_reason::kill)) + "); waiting for it to rejoin";
}

}  // namespace

TEST_CASE("the registrar takes one edge per id, hands out the roster and forwards rejoins",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, registrar_config{"name: x\n", 2, {}}));
  self->request(reg, wait, node_hello{"edge", 0, node_protocol_version})
      .receive([](node_welcome& w) { CHECK(w.scenario_yaml == "name: x\n"); },
               [](caf::error& err) { FAIL(describe(err)); });
  self->request(reg, wait, node_hello{"clients", 0, node_protocol_version})
      .receive([](node_welcome&) { FAIL("clients connect to edges"); }, [](caf::error&) {});
  // Stand-ins: edge actors and edge-node controls that acknowledge shutdown.
  auto stand_in = [&] {
    return sys.spawn([]() -> caf::behavior {
      return {[](node_shutdown&) { return node_ack{true, "bye"}; }};
    });
  };
  auto edge0 = keep(stand_in()), edge1 = keep(stand_in()), edge1b = keep(stand_in());
  auto join = [&](uint32_t id, caf::actor e) {
    node_ack out;
    self->request(reg, wait, edge_join{id, "", 4, "addr", e, e})
        .receive([&](node_ack& a) { out = a; }, [](caf::error& err) { FAIL(describe(err)); });
    return out;
  };
  CHECK(join(0, edge0).accepted);
  CHECK_FALSE(join(0, edge1).accepted);  // id 0 is taken and alive
  // The same registration again (its first answer lost or late): accepted, nothing changes.
  CHECK(join(0, edge0).accepted);
  CHECK(join(5, edge1).message.find("out of range") != std::string::npos);
  std::vector<edge_join> roster;
  request_for<std::vector<edge_join>>(sys, caf::actor_cast<caf::actor>(self), reg,
                                      roster_atom::value);
  CHECK(join(1, edge1).accepted);  // the roster is answered once both edges are in
  self->receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
                caf::after(std::chrono::seconds(20)) >> [] { FAIL("no roster"); });
  REQUIRE(roster.size() == 2);
  CHECK(roster[0].edge == edge0);
  CHECK(roster[1].edge == edge1);
  // The run starts; edge 1 dies and a new process takes its place.
  auto me = caf::actor_cast<caf::actor>(self);
  auto server = keep(sys.spawn([me](caf::event_based_actor*) -> caf::behavior {
    return {[me](edge_rejoin& r) { caf::anon_send(me, r); }};
  }));
  self->send(reg, serving_atom::value, server);
  self->send_exit(edge1, caf::exit_reason::kill);
  // Until the registrar has seen edge 1 go, the id stays taken: retry the join.
  node_ack ack{false, "not tried"};
  for (int i = 0; i < 1000 && !ack.accepted; ++i) ack = join(1, edge1b);
  REQUIRE(ack.accepted);
  self->receive(
      [&](edge_rejoin& r) {
        CHECK(r.id == 1);
        CHECK(r.edge == edge1b);
      },
      caf::after(std::chrono::seconds(20)) >> [] { FAIL("no edge_rejoin"); });
  uint32_t acked = 0;
  self->request(reg, wait, close_atom::value, std::string{"run complete"})
      .receive([&](uint32_t n) { acked = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(acked == 2);
}

TEST_CASE("the registrar refuses a hello of another protocol version or role with the reason",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, registrar_config{"name: x\n", 3, {}}));
  node_welcome welcome;
  self->request(reg, wait, node_hello{"edge", 2, node_protocol_version})
      .receive([&](node_welcome& w) { welcome = w; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(welcome.scenario_yaml == "name: x\n");
  CHECK(welcome.edges == 3);
  CHECK(refused_hello(self, reg, node_hello{"edge", 0, node_protocol_version + 1}) ==
        "bad_request: protocol version " + std::to_string(node_protocol_version + 1) +
            ", this server speaks " + std::to_string(node_protocol_version));
  // The version is checked first: a client host of another version learns about that.
  CHECK(refused_hello(self, reg, node_hello{"clients", 0, 0}) ==
        "bad_request: protocol version 0, this server speaks " +
            std::to_string(node_protocol_version));
  CHECK(refused_hello(self, reg, node_hello{"clients", 0, node_protocol_version}) ==
        "bad_request: the server takes edges; a 'clients' node connects to an edge");
}

TEST_CASE(
    "the registrar refuses joins out of range, without handles or for a live id with the "
    "reason",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, logged_config(self, 2)));
  auto edge0 = keep(stand_in(sys)), control0 = keep(stand_in(sys));
  auto other = keep(stand_in(sys));
  auto ack = join(self, reg, edge_join{2, "eu", 4, "b:7000", other, other});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "edge id 2 out of range: the scenario has 2 edges (ids 0..1)");
  ack = join(self, reg, edge_join{0, "eu", 4, "b:7000", nullptr, other});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "registration without actor handles");
  ack = join(self, reg, edge_join{0, "eu", 4, "b:7000", other, nullptr});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "registration without actor handles");
  ack = join(self, reg, edge_join{0, "eu", 4, "a:7000", edge0, control0});
  CHECK(ack.accepted);
  CHECK(ack.message == "welcome");
  CHECK(next_log(self) == "edge 0 joined (clients at a:7000, region 'eu', capacity 4)");
  ack = join(self, reg, edge_join{0, "us", 8, "b:7000", other, other});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "edge id 0 is already registered (a:7000) and alive");
  // Refusals change nothing: the roster still waits for edge 1 and holds edge 0's join.
  auto edge1 = keep(stand_in(sys));
  self->send(reg, roster_atom::value);  // answered as a plain message once complete
  CHECK(join(self, reg, edge_join{1, "", 2, "c:7000", edge1, edge1}).accepted);
  std::vector<edge_join> roster;
  self->receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
                caf::after(wait) >> [] { FAIL("no roster"); });
  REQUIRE(roster.size() == 2);
  CHECK(roster[0].id == 0);
  CHECK(roster[0].address == "a:7000");
  CHECK(roster[0].region == "eu");
  CHECK(roster[0].capacity == 4);
  CHECK(roster[0].edge == edge0);
  CHECK(roster[0].control == control0);
  CHECK(roster[1].id == 1);
  CHECK(roster[1].edge == edge1);
}

TEST_CASE("a registrar of no edges refuses every join without an impossible id range", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, logged_config(self, 0)));
  auto other = keep(stand_in(sys));
  auto ack = join(self, reg, edge_join{0, "", 1, "a:7000", other, other});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message == "edge id 0 out of range: the scenario has 0 edges");
}

TEST_CASE("the registrar's roster waits for an edge lost before the run until it rejoins",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, logged_config(self, 2)));
  auto edge0 = keep(stand_in(sys)), edge0b = keep(stand_in(sys)), edge1 = keep(stand_in(sys));
  CHECK(join(self, reg, edge_join{0, "eu", 4, "a:7000", edge0, edge0}).accepted);
  CHECK(next_log(self) == "edge 0 joined (clients at a:7000, region 'eu', capacity 4)");
  self->send(reg, roster_atom::value);  // answered as a plain message once complete
  self->send_exit(edge0, caf::exit_reason::kill);
  CHECK(next_log(self) == lost_line(0));
  // Every id has had a join, but edge 0's is dead: no roster yet.
  CHECK(join(self, reg, edge_join{1, "us", 2, "c:7000", edge1, edge1}).accepted);
  CHECK(next_log(self) == "edge 1 joined (clients at c:7000, region 'us', capacity 2)");
  auto ack = join(self, reg, edge_join{0, "eu", 4, "b:7000", edge0b, edge0b});
  CHECK(ack.accepted);
  CHECK(ack.message == "welcome back");
  CHECK(next_log(self) == "edge 0 rejoined (clients at b:7000, region 'eu', capacity 4)");
  // The roster is answered once, so had it gone out before the rejoin it would hold edge0.
  std::vector<edge_join> roster;
  self->receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
                caf::after(wait) >> [] { FAIL("no roster"); });
  REQUIRE(roster.size() == 2);
  CHECK(roster[0].edge == edge0b);
  CHECK(roster[0].address == "b:7000");
  CHECK(roster[1].edge == edge1);
  // Asked again once complete, the roster is answered at once.
  std::vector<edge_join> again;
  self->request(reg, wait, roster_atom::value)
      .receive([&](std::vector<edge_join>& r) { again = std::move(r); },
               [](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(again.size() == 2);
  CHECK(again[0].edge == edge0b);
  CHECK(again[1].edge == edge1);
}

TEST_CASE("a new server hears only of the edges that came back since the roster was handed out",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, logged_config(self, 3)));
  auto edge0 = keep(stand_in(sys)), edge1 = keep(stand_in(sys)), edge2 = keep(stand_in(sys));
  auto edge1b = keep(stand_in(sys));
  CHECK(join(self, reg, edge_join{0, "", 1, "a", edge0, edge0}).accepted);
  CHECK(join(self, reg, edge_join{1, "", 1, "b", edge1, edge1}).accepted);
  CHECK(join(self, reg, edge_join{2, "", 1, "c", edge2, edge2}).accepted);
  for (int i = 0; i < 3; ++i) next_log(self);
  std::vector<edge_join> roster;
  self->request(reg, wait, roster_atom::value)
      .receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
               [](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(roster.size() == 3);
  // Between the roster and the server's start, edge 1 is replaced.
  self->send_exit(edge1, caf::exit_reason::kill);
  CHECK(next_log(self) == lost_line(1));
  CHECK(join(self, reg, edge_join{1, "", 1, "b2", edge1b, edge1b}).accepted);
  CHECK(next_log(self) == "edge 1 rejoined (clients at b2, region '', capacity 1)");
  // The test actor plays the server: the registrar's edge_rejoin messages come here, and
  // all of them are in the mailbox before the answer to a later request.
  self->send(reg, serving_atom::value, caf::actor_cast<caf::actor>(self));
  self->request(reg, wait, node_hello{"edge", 0, node_protocol_version})
      .receive([](node_welcome&) {}, [](caf::error& err) { FAIL(describe(err)); });
  std::vector<std::pair<uint32_t, caf::actor>> rejoins;
  bool more = true;
  while (more)
    self->receive([&](edge_rejoin& r) { rejoins.emplace_back(r.id, r.edge); },
                  caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  REQUIRE(rejoins.size() == 1);
  CHECK(rejoins[0].first == 1);
  CHECK(rejoins[0].second == edge1b);
}

TEST_CASE("close tells every live edge node the reason and answers how many acknowledged",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self);
  auto reg = keep(sys.spawn(registrar, logged_config(self, 3)));
  // Nobody registered: nobody to tell.
  uint32_t acked = 99;
  self->request(reg, wait, close_atom::value, std::string{"early"})
      .receive([&](uint32_t n) { acked = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(acked == 0);
  // Edge 0's control acknowledges, edge 1's refuses, edge 2 is dead by the time of close.
  auto edge0 = keep(stand_in(sys)), edge1 = keep(stand_in(sys)), edge2 = keep(stand_in(sys));
  auto control0 = keep(stand_in(sys, 0, me));
  auto control1 = keep(stand_in(sys, 1, me, false));
  auto control2 = keep(stand_in(sys, 2, me));
  CHECK(join(self, reg, edge_join{0, "", 1, "a", edge0, control0}).accepted);
  CHECK(join(self, reg, edge_join{1, "", 1, "b", edge1, control1}).accepted);
  CHECK(join(self, reg, edge_join{2, "", 1, "c", edge2, control2}).accepted);
  for (int i = 0; i < 3; ++i) next_log(self);
  self->send_exit(edge2, caf::exit_reason::kill);
  CHECK(next_log(self) == lost_line(2));
  acked = 99;
  self->request(reg, wait, close_atom::value, std::string{"run complete"})
      .receive([&](uint32_t n) { acked = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(acked == 1);
  // The answer came after both live controls answered, so both told us before it.
  std::vector<std::pair<uint32_t, std::string>> told;
  bool more = true;
  while (more)
    self->receive(
        [&](told_atom, uint32_t id, std::string& reason) { told.emplace_back(id, reason); },
        caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  std::sort(told.begin(), told.end());
  CHECK(told ==
        std::vector<std::pair<uint32_t, std::string>>{{0, "run complete"}, {1, "run complete"}});
}

TEST_CASE("a stopped registrar fails the roster it was waiting to hand out, and later ones",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto reg = keep(sys.spawn(registrar, logged_config(self, 2)));
  auto edge0 = keep(stand_in(sys));
  CHECK(join(self, reg, edge_join{0, "eu", 4, "a:7000", edge0, edge0}).accepted);
  CHECK(next_log(self) == "edge 0 joined (clients at a:7000, region 'eu', capacity 4)");
  std::string waiting_error;
  self->send(reg, roster_atom::value);  // the answer comes as a plain message
  self->send(reg, stop_atom::value, std::string{"SIGINT"});
  self->receive([](std::vector<edge_join>&) { FAIL("a roster after the stop"); },
                [&](caf::error& err) { waiting_error = describe(err); },
                caf::after(wait) >> [] { FAIL("no answer to the roster"); });
  CHECK(waiting_error.find("stopped (SIGINT)") != std::string::npos);
  std::string later;
  self->request(reg, wait, roster_atom::value)
      .receive([](std::vector<edge_join>&) { FAIL("a roster after the stop"); },
               [&](caf::error& err) { later = describe(err); });
  CHECK(later == waiting_error);
  // The edges that joined are still told at the end.
  uint32_t acked = 0;
  self->request(reg, wait, close_atom::value, std::string{"run stopped (SIGINT)"})
      .receive([&](uint32_t n) { acked = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(acked == 1);
}

TEST_CASE("the registrar checks an edge's region against the scenario's and fills in a missing one",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto rc = logged_config(self, 2);
  rc.edge_regions = {1, 0};
  auto reg = keep(sys.spawn(registrar, rc));
  auto edge0 = keep(stand_in(sys)), edge1 = keep(stand_in(sys));
  auto ack = join(self, reg, edge_join{0, "0", 4, "a:7000", edge0, edge0});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message ==
        "edge 0 names region '0', the scenario puts it in region '1' (topology.edge_regions)");
  ack = join(self, reg, edge_join{1, "eu", 4, "b:7000", edge1, edge1});
  CHECK_FALSE(ack.accepted);
  CHECK(ack.message ==
        "edge 1 names region 'eu', the scenario puts it in region '0' (topology.edge_regions)");
  // The right region, or none: the scenario's.
  CHECK(join(self, reg, edge_join{0, "1", 4, "a:7000", edge0, edge0}).accepted);
  CHECK(next_log(self) == "edge 0 joined (clients at a:7000, region '1', capacity 4)");
  CHECK(join(self, reg, edge_join{1, "", 4, "b:7000", edge1, edge1}).accepted);
  CHECK(next_log(self) == "edge 1 joined (clients at b:7000, region '0', capacity 4)");
  self->send(reg, roster_atom::value);
  std::vector<edge_join> roster;
  self->receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
                caf::after(wait) >> [] { FAIL("no roster"); });
  REQUIRE(roster.size() == 2);
  CHECK(roster[0].region == "1");
  CHECK(roster[1].region == "0");
}
