#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "runtime/population/router.hpp"

using namespace fedactor;

namespace {

std::vector<uint64_t> edge_sizes(const router& r) {
  std::vector<uint64_t> sizes(r.edges(), 0);
  for (uint64_t id = 0; id < r.clients(); ++id) {
    uint32_t e = r.edge_of(static_cast<client_id>(id));
    REQUIRE(e < r.edges());
    ++sizes[e];
  }
  return sizes;
}

}  // namespace

TEST_CASE("range router matches the tutorial layout: 1000 clients, 10 edges of 100",
          "[population][router]") {
  router r(routing_kind::range, 1000, 10, 0);
  for (client_id id = 0; id < 1000; ++id) REQUIRE(r.edge_of(id) == id / 100);
}

TEST_CASE("range router splits an uneven population at floor(e*n/E)", "[population][router]") {
  router r(routing_kind::range, 10, 3, 0);  // [0,3) [3,6) [6,10)
  const std::vector<uint32_t> expected = {0, 0, 0, 1, 1, 1, 2, 2, 2, 2};
  for (client_id id = 0; id < 10; ++id) CHECK(r.edge_of(id) == expected[id]);
  CHECK(edge_sizes(router(routing_kind::range, 1003, 10, 0)) ==
        std::vector<uint64_t>{100, 100, 100, 101, 100, 100, 101, 100, 100, 101});
}

TEST_CASE("range router does not overflow at 2^32-1 clients and edges", "[population][router]") {
  const uint64_t n = UINT32_MAX;
  router one_each(routing_kind::range, n, UINT32_MAX, 0);
  CHECK(one_each.edge_of(0) == 0);
  CHECK(one_each.edge_of(123456789) == 123456789);
  CHECK(one_each.edge_of(UINT32_MAX - 1) == UINT32_MAX - 1);
  router two(routing_kind::range, n, 2, 0);  // edge 1 starts at floor(n/2)
  CHECK(two.edge_of(static_cast<client_id>(n / 2 - 1)) == 0);
  CHECK(two.edge_of(static_cast<client_id>(n / 2)) == 1);
  CHECK(two.edge_of(UINT32_MAX - 1) == 1);
}

TEST_CASE("hash router gives every edge clients when clients == edges", "[population][router]") {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    router r(routing_kind::hash, 10, 10, seed);
    CHECK(edge_sizes(r) == std::vector<uint64_t>(10, 1));
  }
}

TEST_CASE("hash router balances edges like range but scatters neighbouring ids",
          "[population][router]") {
  router hash(routing_kind::hash, 1003, 10, 7);
  router range(routing_kind::range, 1003, 10, 7);
  CHECK(edge_sizes(hash) == edge_sizes(range));
  int same = 0;
  for (client_id id = 0; id < 1003; ++id) same += hash.edge_of(id) == range.edge_of(id);
  CHECK(same < 200);
}

TEST_CASE("hash router is stable for a seed and changes with it", "[population][router]") {
  router a(routing_kind::hash, 100000, 16, 3);
  router b(routing_kind::hash, 100000, 16, 3);
  router c(routing_kind::hash, 100000, 16, 4);
  int differ = 0;
  for (client_id id = 0; id < 100000; ++id) {
    REQUIRE(a.edge_of(id) == b.edge_of(id));
    differ += a.edge_of(id) != c.edge_of(id);
  }
  CHECK(differ > 80000);
}

TEST_CASE("hash router stays in range for the largest population", "[population][router]") {
  router r(routing_kind::hash, UINT32_MAX, 1000, 1);
  for (uint64_t id = 0; id < UINT32_MAX; id += 9999991)
    REQUIRE(r.edge_of(static_cast<client_id>(id)) < 1000);
  REQUIRE(r.edge_of(UINT32_MAX - 1) < 1000);
}

TEST_CASE("router rejects 0 clients, more than 2^32-1 clients and 0 edges",
          "[population][router]") {
  CHECK_THROWS_AS(router(routing_kind::range, 0, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(router(routing_kind::hash, uint64_t{1} << 32, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS(router(routing_kind::range, 10, 0, 0), std::invalid_argument);
}
