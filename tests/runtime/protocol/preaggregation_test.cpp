// Tests of runtime/protocol/preaggregation.*: groups of async updates folded at an edge and
// answered once closed and complete.

#include "runtime/protocol/preaggregation.hpp"

#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

weighted_accumulator read(const complete_group& g) {
  auto acc = weighted_accumulator::deserialize(g.aggregate.data(), g.aggregate.size());
  REQUIRE(acc);
  return *acc;
}

const std::vector<float> base{1, 2};

}  // namespace

TEST_CASE("preaggregation answers a group once it is closed and every member is in", "[protocol]") {
  preaggregation p;
  const std::vector<float> a{2, 0};  // Δ (1, -2)
  const std::vector<float> b{4, 4};  // Δ (3, 2)
  REQUIRE(p.fold(7, {10, 0, 1.0}, a.data(), base.data(), 2, 10, 0.5, false));
  CHECK_FALSE(p.take_if_complete(7));  // still open
  p.close(7, 2);
  CHECK_FALSE(p.take_if_complete(7));  // closed, one member missing
  REQUIRE(p.fold(7, {11, 1, 2.0}, b.data(), base.data(), 2, 30, 1.5, false));
  auto g = p.take_if_complete(7);
  REQUIRE(g);
  CHECK(g->id == 7);
  REQUIRE(g->members.size() == 2);
  CHECK(g->members[0].seq == 10);
  CHECK(g->members[1].seq == 11);
  CHECK(g->carrier == 1);  // the last to finish (t 2)
  const auto acc = read(*g);
  // Σ n·Δ = (10 + 90, -20 + 60) = (100, 40) over Σn = 40: mean (2.5, 1).
  CHECK(acc.count() == 2);
  CHECK(acc.weight() == 40.0);
  CHECK(acc.mean() == std::vector<float>{2.5f, 1.0f});
  CHECK(acc.scalar_sum() == 50.0);  // 10·0.5 + 30·1.5
  CHECK(p.open_groups() == 0);
  CHECK_FALSE(p.take_if_complete(7));  // taken
}

TEST_CASE("preaggregation under group_params sums n·params, not deltas", "[protocol]") {
  preaggregation p;
  const std::vector<float> a{2, 0};
  const std::vector<float> b{4, 4};
  p.close(1, 2);  // closed before any member is in
  REQUIRE(p.fold(1, {0, 0, 1.0}, a.data(), nullptr, 2, 10, 0, true));
  REQUIRE(p.fold(1, {1, 1, 1.0}, b.data(), nullptr, 2, 30, 0, true));
  auto g = p.take_if_complete(1);
  REQUIRE(g);
  // (10·(2, 0) + 30·(4, 4)) / 40 = (140, 120) / 40 = (3.5, 3).
  CHECK(read(*g).mean() == std::vector<float>{3.5f, 3.0f});
}

TEST_CASE("preaggregation carrier is the last to finish, then the larger seq", "[protocol]") {
  preaggregation p;
  const std::vector<float> x{1, 2};
  // Folded in the order seq 9 (t 7), seq 2 (t 7), seq 5 (t 3).
  REQUIRE(p.fold(3, {9, 90, 7.0}, x.data(), base.data(), 2, 1, 0, false));
  REQUIRE(p.fold(3, {2, 20, 7.0}, x.data(), base.data(), 2, 1, 0, false));
  REQUIRE(p.fold(3, {5, 50, 3.0}, x.data(), base.data(), 2, 1, 0, false));
  p.close(3, 3);
  auto g = p.take_if_complete(3);
  REQUIRE(g);
  CHECK(g->carrier == 0);  // seq 9: finish 7 ties with seq 2, and 9 > 2
  CHECK(g->members[g->carrier].client == 90);
}

TEST_CASE("preaggregation counts failed members toward the group's size", "[protocol]") {
  preaggregation p;
  const std::vector<float> a{2, 0};
  const std::vector<float> three{1, 1, 1};
  const std::vector<float> huge{1e9f, 0};
  REQUIRE(p.fold(4, {0, 0, 1.0}, a.data(), base.data(), 2, 10, 0, false));
  p.fail(4);  // the client's task failed
  // A member of another size, and one out of the accumulator's range: failed, not folded.
  CHECK_FALSE(p.fold(4, {2, 2, 5.0}, three.data(), base.data(), 3, 10, 0, false));
  CHECK_FALSE(p.fold(4, {3, 3, 6.0}, huge.data(), base.data(), 2, 10, 0, false));
  p.close(4, 4);
  auto g = p.take_if_complete(4);
  REQUIRE(g);
  REQUIRE(g->members.size() == 1);
  CHECK(g->members[0].seq == 0);
  CHECK(g->carrier == 0);
  CHECK(read(*g).count() == 1);
  CHECK(read(*g).mean() == std::vector<float>{1, -2});
}

TEST_CASE("preaggregation drops a complete group with no folded member: nobody to answer",
          "[protocol]") {
  preaggregation p;
  p.fail(5);
  p.fail(5);
  CHECK(p.open_groups() == 1);
  CHECK_FALSE(p.take_if_complete(5));  // still open
  p.close(5, 2);
  CHECK_FALSE(p.take_if_complete(5));
  CHECK(p.open_groups() == 0);
}

TEST_CASE("preaggregation keeps groups apart", "[protocol]") {
  preaggregation p;
  const std::vector<float> a{2, 0};
  const std::vector<float> b{4, 4};
  REQUIRE(p.fold(1, {0, 0, 1.0}, a.data(), base.data(), 2, 10, 0, false));
  REQUIRE(p.fold(2, {1, 1, 1.0}, b.data(), base.data(), 2, 30, 0, false));
  CHECK(p.open_groups() == 2);
  p.close(2, 1);
  CHECK_FALSE(p.take_if_complete(1));
  auto g = p.take_if_complete(2);
  REQUIRE(g);
  CHECK(read(*g).mean() == std::vector<float>{3, 2});
  CHECK(p.open_groups() == 1);
  CHECK_FALSE(p.take_if_complete(99));
}
