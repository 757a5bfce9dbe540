// A middle edge's child edges (aggregation trees): routing by what each subtree covers, the
// checks on what a child declares, and an edge node taking child edges.

#include "actors/edge_children.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "actors/edge_node.hpp"
#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "tests/support/actor_helpers.hpp"
#include "tests/support/node_actor_helpers.hpp"

using namespace fedactor;
using fedactor::testing::reaper;
using fedactor::testing::refused_hello;

namespace {

constexpr auto wait = std::chrono::seconds(60);

caf::behavior idle(caf::event_based_actor*) {
  return {[](int) {}};
}

}  // namespace

TEST_CASE("edge_children routes a client to the child whose subtree covers it, latest first",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  auto a = keep(sys.spawn(idle)), b = keep(sys.spawn(idle));
  auto ea = keep(sys.spawn(idle)), eb = keep(sys.spawn(idle));
  edge_children kids;
  kids.add(1, caf::actor_cast<edge_actor>(ea), a, {0, 9, 20, 29}, "site a");
  kids.add(2, caf::actor_cast<edge_actor>(eb), b, {5, 14}, "site b");
  CHECK(kids.size() == 2);
  CHECK(kids.find(0)->id == 1);
  CHECK(kids.find(4)->id == 1);
  CHECK(kids.find(5)->id == 2);  // covered by both: the later join wins
  CHECK(kids.find(14)->id == 2);
  CHECK_FALSE(kids.find(15));
  CHECK(kids.find(25)->id == 1);
  CHECK(kids.find(25)->edge.address() == ea.address());
  CHECK(kids.covers() == std::vector<uint32_t>{0, 9, 20, 29, 5, 14});
  CHECK(kids.name_of(2) == "site b");
  // Only the child itself updates what it covers.
  CHECK_FALSE(kids.set_cover(2, a.address(), {50, 60}));
  CHECK(kids.set_cover(2, b.address(), {50, 60}));
  CHECK(kids.find(5)->id == 1);
  CHECK(kids.find(55)->id == 2);
  // The same id again replaces the old entry (a child that came back).
  kids.add(1, caf::actor_cast<edge_actor>(ea), a, {70, 70}, "site a again");
  CHECK(kids.size() == 2);
  CHECK_FALSE(kids.find(0));
  CHECK(kids.find(70)->id == 1);
  CHECK(kids.remove(b.address()) == uint32_t{2});
  CHECK_FALSE(kids.remove(b.address()));
  CHECK_FALSE(kids.find(55));
  CHECK(kids.name_of(2) == "child edge 2");
  CHECK(kids.controls().size() == 1);
}

TEST_CASE("what a child edge declares it covers is checked against the population", "[actors]") {
  CHECK(cover_problem({}, 10) == "");
  CHECK(cover_problem({0, 9, 3, 3}, 10) == "");
  CHECK(cover_problem({0, 9, 3}, 10) == "client ranges of 3 values, not pairs");
  CHECK(cover_problem({4, 3}, 10) == "client ids 4-3 outside 0-9");
  CHECK(cover_problem({0, 10}, 10) == "client ids 0-10 outside 0-9");
  CHECK(cover_problem({0, 0}, 0) == "client ids 0-0: the scenario has no clients");
  std::vector<uint32_t> many(2 * (max_cover_ranges + 1), 0);
  CHECK(cover_problem(many, 10) == std::to_string(max_cover_ranges + 1) +
                                       " client ranges, at most " +
                                       std::to_string(max_cover_ranges));
}

TEST_CASE("an edge node takes child edges of its protocol and refuses bad joins with the reason",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto kids = std::make_shared<edge_children>();
  edge_node_config ncfg;
  ncfg.id = 3;
  ncfg.welcome = node_welcome{"name: y\n", 4};
  ncfg.clients = 100;
  ncfg.directory = std::make_shared<client_directory>();
  ncfg.children = kids;
  auto node = keep(sys.spawn(edge_node, ncfg));
  node_welcome welcome;
  self->request(node, wait, node_hello{"child-edge", 7, node_protocol_version})
      .receive([&](node_welcome& w) { welcome = w; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(welcome.scenario_yaml == "name: y\n");
  CHECK(refused_hello(self, node, node_hello{"child-edge", 7, node_protocol_version - 1}) ==
        "bad_request: protocol version " + std::to_string(node_protocol_version - 1) +
            ", this edge speaks " + std::to_string(node_protocol_version));
  auto join = [&](child_join j) {
    node_ack out{false, "no answer"};
    self->request(node, wait, std::move(j))
        .receive([&](node_ack& a) { out = a; },
                 [&](caf::error& err) { out.message = describe(err); });
    return out;
  };
  auto child_edge = keep(sys.spawn(idle));
  auto child_node = keep(sys.spawn(idle));
  auto bad = join(child_join{7, "site", {10, 200}, child_edge, child_node});
  CHECK_FALSE(bad.accepted);
  CHECK(bad.message == "child edge 7: client ids 10-200 outside 0-99");
  CHECK_FALSE(join(child_join{7, "site", {10, 20}, child_edge, {}}).accepted);
  auto ok = join(child_join{7, "site", {10, 20}, child_edge, child_node});
  CHECK(ok.accepted);
  REQUIRE(kids->find(15));
  CHECK(kids->find(15)->id == 7);
  // A cover update from someone who is not that child changes nothing.
  self->send(node, edge_cover{7, {30, 40}});
  uint32_t joined = 0;
  self->request(node, wait, hosts_atom::value, uint32_t{1})
      .receive([&](uint32_t n) { joined = n; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(joined == 1);
  CHECK(kids->find(15));
  CHECK_FALSE(kids->find(35));
  // Without children configured, an edge refuses a child edge's hello.
  ncfg.children = nullptr;
  auto plain = keep(sys.spawn(edge_node, ncfg));
  CHECK(refused_hello(self, plain, node_hello{"child-edge", 7, node_protocol_version}) ==
        "bad_request: an edge takes client hosts and child edges (--parent); a 'child-edge' node "
        "connects to the server");
}
