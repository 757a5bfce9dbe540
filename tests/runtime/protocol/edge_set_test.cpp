// Tests of runtime/protocol/edge_set.*: where a client trains when edges are lost and come back.

#include "runtime/protocol/edge_set.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

// 12 clients over 3 edges, range routing: edge 0 serves 0..3, edge 1 4..7, edge 2 8..11.
edge_set twelve_over_three(edge_loss_policy policy) {
  return edge_set(std::make_unique<router>(routing_kind::range, 12, 3, 0), policy);
}

}  // namespace

TEST_CASE("edge_set needs a router", "[protocol]") {
  CHECK_THROWS_AS(edge_set(nullptr, edge_loss_policy::reroute), std::invalid_argument);
}

TEST_CASE("edge_set sends every client to its home edge while all edges are alive", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  CHECK(edges.size() == 3);
  CHECK(edges.alive_edges() == std::vector<uint32_t>{0, 1, 2});
  for (uint32_t id = 0; id < 12; ++id) {
    CAPTURE(id);
    CHECK(edges.home_of(id) == id / 4);
    CHECK(edges.edge_for(id) == id / 4);
  }
  CHECK(edges.incarnation(0) == 0);
  CHECK_FALSE(edges.alive(3));
}

TEST_CASE("edge_set reroutes a lost edge's clients to survivors by id", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  REQUIRE(edges.lose(1));
  CHECK_FALSE(edges.alive(1));
  CHECK(edges.alive_edges() == std::vector<uint32_t>{0, 2});
  // alive_edges()[id % 2]: 4 -> [0] = 0, 5 -> [1] = 2, 6 -> 0, 7 -> 2.
  CHECK(edges.edge_for(4) == 0u);
  CHECK(edges.edge_for(5) == 2u);
  CHECK(edges.edge_for(6) == 0u);
  CHECK(edges.edge_for(7) == 2u);
  // The survivors' own clients stay home.
  CHECK(edges.edge_for(1) == 0u);
  CHECK(edges.edge_for(9) == 2u);
  CHECK(edges.home_of(5) == 1);
  REQUIRE(edges.lose(0));
  // Only edge 2 is left: alive_edges()[id % 1] = 2 for every lost client.
  CHECK(edges.edge_for(1) == 2u);
  CHECK(edges.edge_for(4) == 2u);
  CHECK(edges.edge_for(9) == 2u);
}

TEST_CASE("edge_set under the drop policy cannot reach a lost edge's clients", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::drop);
  CHECK(edges.policy() == edge_loss_policy::drop);
  REQUIRE(edges.lose(1));
  for (uint32_t id = 4; id < 8; ++id) CHECK_FALSE(edges.edge_for(id));
  CHECK(edges.edge_for(0) == 0u);
  CHECK(edges.edge_for(11) == 2u);
}

TEST_CASE("edge_set with no edge left reaches nobody, even when rerouting", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  REQUIRE(edges.lose(0));
  REQUIRE(edges.lose(1));
  REQUIRE(edges.lose(2));
  CHECK(edges.alive_edges().empty());
  for (uint32_t id = 0; id < 12; ++id) CHECK_FALSE(edges.edge_for(id));
}

TEST_CASE("edge_set ignores losing an edge twice or one out of range", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  CHECK(edges.lose(2));
  CHECK_FALSE(edges.lose(2));
  CHECK(edges.incarnation(2) == 1);  // one loss, one incarnation more
  CHECK_FALSE(edges.lose(3));
  CHECK(edges.alive_edges() == std::vector<uint32_t>{0, 1});
}

TEST_CASE("edge_set rejoin brings a lost edge back, a live one's rejoin changes nothing",
          "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  CHECK_FALSE(edges.rejoin(1));  // a new registration replacing a live edge
  CHECK(edges.incarnation(1) == 0);
  CHECK_FALSE(edges.rejoin(3));  // out of range
  REQUIRE(edges.lose(1));
  CHECK(edges.edge_for(5) == 2u);
  CHECK(edges.rejoin(1));
  CHECK(edges.alive(1));
  CHECK(edges.alive_edges() == std::vector<uint32_t>{0, 1, 2});
  CHECK(edges.edge_for(5) == 1u);  // home again
  CHECK(edges.incarnation(1) == 1);
}

TEST_CASE("edge_set incarnation grows at each loss, not at a return", "[protocol]") {
  auto edges = twelve_over_three(edge_loss_policy::reroute);
  REQUIRE(edges.lose(0));
  CHECK(edges.incarnation(0) == 1);
  REQUIRE(edges.rejoin(0));
  CHECK(edges.incarnation(0) == 1);
  REQUIRE(edges.lose(0));
  CHECK(edges.incarnation(0) == 2);
  CHECK(edges.incarnation(1) == 0);
  CHECK_THROWS_AS(edges.incarnation(3), std::out_of_range);
}
