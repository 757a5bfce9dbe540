// Tests of runtime/population/region_router.*: own region first, least loaded, spilling to
// the nearest region when full, whole-region loss, and the default layouts.

#include "runtime/population/region_router.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

const std::vector<bool> all4 = {true, true, true, true};

// Edges 0, 1 in region 0, edge 2 in region 1, edge 3 in region 2; the default latencies.
region_router four_edges(uint32_t capacity) {
  return region_router({0, 0, 1, 2}, 3, region_latency_matrix({}, 3), capacity);
}

}  // namespace

TEST_CASE("region_latency_matrix default is cheap within a region and dear across",
          "[population]") {
  CHECK(region_latency_matrix({}, 3) ==
        std::vector<double>{0.01, 0.1, 0.2, 0.1, 0.01, 0.1, 0.2, 0.1, 0.01});
  CHECK(region_latency_matrix({}, 1) == std::vector<double>{0.01});
  CHECK(region_latency_matrix({0.5, 1, 2, 0.5}, 2) == std::vector<double>{0.5, 1, 2, 0.5});
}

TEST_CASE("edge_region_list default spreads the edges over the regions in blocks", "[population]") {
  // floor(e * 3 / 5) for e = 0..4.
  CHECK(edge_region_list({}, 5, 3) == std::vector<uint32_t>{0, 0, 1, 1, 2});
  CHECK(edge_region_list({}, 3, 3) == std::vector<uint32_t>{0, 1, 2});
  CHECK(edge_region_list({2, 2, 0}, 3, 3) == std::vector<uint32_t>{2, 2, 0});
}

TEST_CASE("region_router orders regions by latency from each region", "[population]") {
  auto r = four_edges(0);
  CHECK(r.nearest(0) == std::vector<uint32_t>{0, 1, 2});
  CHECK(r.nearest(1) == std::vector<uint32_t>{1, 0, 2});  // 0.1 to both: the lower first
  CHECK(r.nearest(2) == std::vector<uint32_t>{2, 1, 0});
  // Region 2 nearer to region 0 than region 1 is.
  region_router custom({0, 1, 2}, 3, {0.01, 0.5, 0.2, 0.5, 0.01, 0.3, 0.2, 0.3, 0.01}, 0);
  CHECK(custom.nearest(0) == std::vector<uint32_t>{0, 2, 1});
  CHECK(custom.latency_s(0, 2) == 0.2);
}

TEST_CASE("region_router sends a client to the least-loaded edge of its own region",
          "[population]") {
  auto r = four_edges(0);
  CHECK(r.route(0, all4) == 0u);  // tie: the lower edge
  CHECK(r.route(0, all4) == 1u);
  CHECK(r.route(0, all4) == 0u);
  CHECK(r.route(1, all4) == 2u);
  CHECK(r.route(2, all4) == 3u);
  CHECK(r.load(0) == 2);
  CHECK(r.load(1) == 1);
  r.release(0);
  r.release(0);
  CHECK(r.load(0) == 0);
  CHECK(r.route(0, all4) == 0u);  // edge 0 holds 0 tasks, edge 1 holds 1
  r.release(3);
  r.release(3);  // saturates at 0
  CHECK(r.load(3) == 0);
  CHECK(r.spilled() == 0);
  // No cap: a region never spills, however loaded.
  for (int i = 0; i < 100; ++i) CHECK(r.route(1, all4) == 2u);
}

TEST_CASE("region_router spills to the nearest region when every edge is full", "[population]") {
  auto r = four_edges(2);
  // Region 0's edges 0 and 1 take two tasks each.
  CHECK(r.route(0, all4) == 0u);
  CHECK(r.route(0, all4) == 1u);
  CHECK(r.route(0, all4) == 0u);
  CHECK(r.route(0, all4) == 1u);
  CHECK(r.peek(0, all4) == 2u);  // full: region 1 (0.1 s) before region 2 (0.2 s)
  CHECK(r.load(2) == 0);         // peek counts nothing
  CHECK(r.route(0, all4) == 2u);
  CHECK(r.route(0, all4) == 2u);
  CHECK(r.route(0, all4) == 3u);  // region 1 full too
  CHECK(r.route(0, all4) == 3u);
  CHECK(r.spilled() == 4);
  // Every edge full: queued on the least-loaded edge of the client's own region.
  CHECK(r.route(0, all4) == 0u);
  CHECK(r.route(2, all4) == 3u);
  CHECK(r.load(0) == 3);
  CHECK(r.load(3) == 3);
  CHECK(r.spilled() == 4);
  // A freed slot in region 0 takes its clients back.
  r.release(1);
  CHECK(r.route(0, all4) == 1u);
}

TEST_CASE("region_router sends a lost region's clients to the nearest region", "[population]") {
  auto r = four_edges(0);
  const std::vector<bool> region0_lost = {false, false, true, true};
  CHECK(r.route(0, region0_lost) == 2u);  // region 1 is nearest to region 0
  CHECK(r.spilled() == 1);
  CHECK(r.route(0, region0_lost, true) == std::nullopt);  // own region only (drop policy)
  // One of region 0's edges lost: the other takes all of it.
  const std::vector<bool> edge0_lost = {false, true, true, true};
  CHECK(r.route(0, edge0_lost) == 1u);
  CHECK(r.route(0, edge0_lost) == 1u);
  // Every edge lost.
  CHECK(r.route(1, {false, false, false, false}) == std::nullopt);
  // A lost edge's count is cleared.
  r.clear(1);
  CHECK(r.load(1) == 0);
  CHECK(r.load(2) == 1);
  r.clear_all();
  CHECK(r.load(2) == 0);
}

TEST_CASE("region_router decisions depend only on the sequence of calls", "[population]") {
  auto a = four_edges(3);
  auto b = four_edges(3);
  rng gen{42};
  std::vector<uint32_t> open_a, open_b;
  for (int i = 0; i < 2000; ++i) {
    const auto region = static_cast<uint32_t>(gen.below(3));
    if (gen.below(3) == 0 && !open_a.empty()) {
      const auto k = static_cast<size_t>(gen.below(open_a.size()));
      a.release(open_a[k]);
      b.release(open_b[k]);
      open_a.erase(open_a.begin() + static_cast<long>(k));
      open_b.erase(open_b.begin() + static_cast<long>(k));
      continue;
    }
    auto ea = a.route(region, all4);
    auto eb = b.route(region, all4);
    REQUIRE(ea.has_value());
    REQUIRE(ea == eb);
    open_a.push_back(*ea);
    open_b.push_back(*eb);
  }
  for (uint32_t e = 0; e < 4; ++e) CHECK(a.load(e) == b.load(e));
  CHECK(a.spilled() == b.spilled());
}

TEST_CASE("region_router refuses inconsistent layouts", "[population]") {
  CHECK_THROWS_AS(region_router({}, 1, {0.01}, 0), std::invalid_argument);
  CHECK_THROWS_AS(region_router({0}, 0, {}, 0), std::invalid_argument);
  CHECK_THROWS_AS(region_router({0, 2}, 2, region_latency_matrix({}, 2), 0), std::invalid_argument);
  CHECK_THROWS_AS(region_router({0, 1}, 2, {0.01, 0.1, 0.1}, 0), std::invalid_argument);
}
