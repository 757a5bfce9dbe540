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

namespace {

// 9 clients, client i in region i % 3; edges 0, 1 in region 0, edge 2 in region 1, edge 3 in
// region 2; the default latencies (0.01 s within a region, 0.1 s per region apart).
client_registry nine_in_three_regions() {
  return client_registry(
      9, 0, 3, [](client_id) { return 10u; },
      [](client_id id) {
        return client_meta{1.0f, uint16_t(id % 3)};
      });
}

edge_set by_region(const client_registry& reg, edge_loss_policy policy, uint32_t capacity) {
  edge_set edges(std::make_unique<router>(routing_kind::region, 9, 4, 0), policy);
  edges.route_by_region(std::make_unique<region_router>(std::vector<uint32_t>{0, 0, 1, 2}, 3,
                                                        region_latency_matrix({}, 3), capacity),
                        &reg);
  return edges;
}

}  // namespace

TEST_CASE("edge_set with region routing counts tasks and balances a region's edges", "[protocol]") {
  auto reg = nine_in_three_regions();
  auto edges = by_region(reg, edge_loss_policy::reroute, 1);
  CHECK(edges.edge_for(0) == 0u);  // region 0: edge 0, then edge 1
  CHECK(edges.edge_for(3) == 1u);
  CHECK(edges.edge_for(6) == 2u);  // both full (capacity 1): region 1
  CHECK(edges.rerouted(6, 2));
  CHECK_FALSE(edges.rerouted(1, 2));
  CHECK(edges.regions()->load(2) == 1);
  // 2 x the one-way latency: region 0 to region 1 is 0.1 s, region 1 to itself 0.01 s.
  CHECK(edges.extra_latency_s(6, 2) == 2 * 0.1);
  CHECK(edges.extra_latency_s(1, 2) == 2 * 0.01);
  edges.release(0);
  CHECK(edges.edge_for(6) == 0u);
  edges.release_all();
  CHECK(edges.regions()->load(1) == 0);
  CHECK(edges.regions()->load(2) == 0);
}

TEST_CASE("edge_set with region routing sends a lost region's clients to the nearest region",
          "[protocol]") {
  auto reg = nine_in_three_regions();
  auto edges = by_region(reg, edge_loss_policy::reroute, 0);
  CHECK(edges.edge_for(2) == 3u);  // region 2's own edge
  REQUIRE(edges.lose(3));
  CHECK(edges.regions()->load(3) == 0);  // its count went with it
  CHECK(edges.reachable(2));
  CHECK(edges.edge_for(2) == 2u);  // region 1 is nearest to region 2
  CHECK(edges.rerouted(2, 2));
  auto dropping = by_region(reg, edge_loss_policy::drop, 0);
  REQUIRE(dropping.lose(3));
  CHECK_FALSE(dropping.reachable(2));
  CHECK(dropping.edge_for(2) == std::nullopt);
  CHECK(dropping.edge_for(1) == 2u);
}

TEST_CASE("edge_set region routing needs a matching router and a registry", "[protocol]") {
  auto reg = nine_in_three_regions();
  edge_set edges(std::make_unique<router>(routing_kind::region, 9, 4, 0),
                 edge_loss_policy::reroute);
  CHECK_THROWS_AS(edges.route_by_region(nullptr, &reg), std::invalid_argument);
  CHECK_THROWS_AS(
      edges.route_by_region(std::make_unique<region_router>(std::vector<uint32_t>{0, 1}, 3,
                                                            region_latency_matrix({}, 3), 0),
                            &reg),
      std::invalid_argument);
  CHECK(edges.regions() == nullptr);
  CHECK(edges.extra_latency_s(0, 0) == 0);
}

TEST_CASE("edge_set with edge regions but range routing only adds the latency", "[protocol]") {
  auto reg = nine_in_three_regions();
  // 9 clients over 4 edges by range: edge 0 serves 0..2, edge 1 3..4, edge 2 5..6, edge 3 7..8.
  edge_set edges(std::make_unique<router>(routing_kind::range, 9, 4, 0), edge_loss_policy::reroute);
  edges.route_by_region(std::make_unique<region_router>(std::vector<uint32_t>{0, 0, 1, 2}, 3,
                                                        region_latency_matrix({}, 3), 1),
                        &reg, false);
  CHECK(edges.has_regions());
  CHECK(edges.regions() == nullptr);
  CHECK(edges.edge_for(0) == 0u);
  CHECK(edges.edge_for(1) == 0u);  // no capacity: range routing does not count
  CHECK(edges.edge_for(8) == 3u);
  CHECK_FALSE(edges.rerouted(8, 3));
  // Client 8 (region 2) on edge 3 (region 2): 2 x 0.01; client 1 (region 1) on edge 0
  // (region 0): 2 x 0.1.
  CHECK(edges.extra_latency_s(8, 3) == 2 * 0.01);
  CHECK(edges.extra_latency_s(1, 0) == 2 * 0.1);
}
