#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include "runtime/math/rng.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"

using namespace fedactor;

namespace {

// 0.999 quantiles of the chi-square distribution, by degrees of freedom.
constexpr double chi2_999_dof2 = 13.816;
constexpr double chi2_999_dof5 = 20.515;
constexpr double chi2_999_dof9 = 27.877;
constexpr double chi2_999_dof99 = 148.230;

client_registry make_registry(uint64_t n, std::vector<uint32_t> weights = {}) {
  return client_registry(n, 1, 1,
                         [weights](client_id id) { return weights.empty() ? 10u : weights[id]; });
}

double chi_square(const std::vector<uint64_t>& observed, const std::vector<double>& expected) {
  double stat = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    double d = static_cast<double>(observed[i]) - expected[i];
    stat += d * d / expected[i];
  }
  return stat;
}

void require_distinct_ascending(const std::vector<client_id>& ids, uint64_t n) {
  for (size_t i = 0; i < ids.size(); ++i) {
    REQUIRE(ids[i] < n);
    if (i > 0) REQUIRE(ids[i - 1] < ids[i]);
  }
}

std::vector<client_id> all_ids(uint64_t n) {
  std::vector<client_id> ids(n);
  for (uint64_t i = 0; i < n; ++i) ids[i] = static_cast<client_id>(i);
  return ids;
}

}  // namespace

// ---- common to every strategy ----

TEST_CASE("every sampler returns k distinct ascending ids and marks them picked",
          "[population][sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    auto reg = make_registry(500);
    auto s = make_sampler(kind, reg, 9);
    for (int32_t round = 0; round < 20; ++round) {
      auto ids = s->sample(37, round);
      REQUIRE(ids.size() == 37);
      require_distinct_ascending(ids, 500);
      for (client_id id : ids) REQUIRE(reg.last_round(id) == round);
    }
  }
}

TEST_CASE("every sampler with the same seed and calls repeats its picks", "[population][sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    auto reg_a = make_registry(300);
    auto reg_b = make_registry(300);
    auto a = make_sampler(kind, reg_a, 42);
    auto b = make_sampler(kind, reg_b, 42);
    auto odd = [](client_id id) { return id % 2 == 1; };
    for (int32_t round = 0; round < 10; ++round) {
      REQUIRE(a->sample(20, round) == b->sample(20, round));
      REQUIRE(a->sample(5, round, odd) == b->sample(5, round, odd));
    }
  }
}

TEST_CASE("every sampler given k == population returns everyone", "[population][sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    auto reg = make_registry(64);
    auto s = make_sampler(kind, reg, 1);
    CHECK(s->sample(64, 0) == all_ids(64));
    CHECK(s->sample(64, 1) == all_ids(64));
    CHECK(s->sample(0, 2).empty());
  }
}

TEST_CASE("every sampler throws on too few eligible clients and changes nothing",
          "[population][sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    auto reg = make_registry(50);
    auto s = make_sampler(kind, reg, 1);
    auto before = s->sample(10, 0);
    CHECK_THROWS_AS(s->sample(51, 1), std::invalid_argument);
    auto below_40 = [](client_id id) { return id < 40; };
    CHECK_THROWS_AS(s->sample(11, 1, below_40), std::invalid_argument);
    for (client_id id = 0; id < 50; ++id) {
      bool picked = std::find(before.begin(), before.end(), id) != before.end();
      REQUIRE(reg.last_round(id) == (picked ? 0 : -1));
    }
    // A sampler that threw continues exactly like one that never saw the bad calls.
    auto reg_fresh = make_registry(50);
    auto fresh = make_sampler(kind, reg_fresh, 1);
    fresh->sample(10, 0);
    CHECK(s->sample(10, 1) == fresh->sample(10, 1));
    CHECK(s->sample(10, 2, below_40) == fresh->sample(10, 2, below_40));
  }
}

TEST_CASE("every sampler never returns an excluded id", "[population][sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    auto reg = make_registry(100);
    auto s = make_sampler(kind, reg, 3);
    auto even = [](client_id id) { return id % 2 == 0; };
    for (int32_t round = 0; round < 50; ++round) {
      auto ids = s->sample(round % 2 == 0 ? 10 : 50, round, even);
      require_distinct_ascending(ids, 100);
      for (client_id id : ids) REQUIRE(id % 2 == 1);
    }
  }
}

// ---- random ----

TEST_CASE("random sampler is uniform: chi-square over 2000 rounds of 10 of 100",
          "[population][sampler][random]") {
  auto reg = make_registry(100);
  auto s = make_sampler(sampling_kind::random, reg, 2024);
  std::vector<uint64_t> counts(100, 0);
  for (int32_t round = 0; round < 2000; ++round)
    for (client_id id : s->sample(10, round)) ++counts[id];
  CHECK(chi_square(counts, std::vector<double>(100, 200.0)) < chi2_999_dof99);
}

TEST_CASE("random sampler stays uniform over the eligible clients when most are excluded",
          "[population][sampler][random]") {
  // 10 eligible of 100, k = 8: rejection gives up early and the one-pass fallback finishes.
  auto reg = make_registry(100);
  auto s = make_sampler(sampling_kind::random, reg, 77);
  auto excluded = [](client_id id) { return id % 10 != 3; };
  std::vector<uint64_t> counts(10, 0);
  for (int32_t round = 0; round < 2000; ++round)
    for (client_id id : s->sample(8, round, excluded)) {
      REQUIRE(id % 10 == 3);
      ++counts[id / 10];
    }
  CHECK(chi_square(counts, std::vector<double>(10, 1600.0)) < chi2_999_dof9);
}

TEST_CASE("random sampler repeated calls in one round draw different sets",
          "[population][sampler][random]") {
  auto reg = make_registry(1000);
  auto s = make_sampler(sampling_kind::random, reg, 5);
  CHECK(s->sample(10, 3) != s->sample(10, 3));
}

TEST_CASE("random sampler picks depend on the seed", "[population][sampler][random]") {
  auto reg_a = make_registry(1000);
  auto reg_b = make_registry(1000);
  auto a = make_sampler(sampling_kind::random, reg_a, 1);
  auto b = make_sampler(sampling_kind::random, reg_b, 2);
  CHECK(a->sample(10, 0) != b->sample(10, 0));
}

// ---- weighted ----

TEST_CASE("weighted sampler with k = 1 picks clients in proportion 1:2:7",
          "[population][sampler][weighted]") {
  auto reg = make_registry(3, {1, 2, 7});
  auto s = make_sampler(sampling_kind::weighted, reg, 13);
  const int draws = 20000;
  std::vector<uint64_t> counts(3, 0);
  for (int32_t round = 0; round < draws; ++round) ++counts[s->sample(1, round).at(0)];
  CHECK(counts[0] / double(draws) == Approx(0.1).margin(0.015));
  CHECK(counts[1] / double(draws) == Approx(0.2).margin(0.015));
  CHECK(counts[2] / double(draws) == Approx(0.7).margin(0.015));
  CHECK(chi_square(counts, {0.1 * draws, 0.2 * draws, 0.7 * draws}) < chi2_999_dof2);
}

TEST_CASE("weighted sampler pairs follow the exact successive-draw probabilities",
          "[population][sampler][weighted]") {
  // Weights 1,2,3,4, k = 2: P({i,j}) = wi/W * wj/(W-wi) + wj/W * wi/(W-wj).
  const std::vector<uint32_t> w = {1, 2, 3, 4};
  const double total = 10;
  auto reg = make_registry(4, w);
  auto s = make_sampler(sampling_kind::weighted, reg, 99);
  const int draws = 20000;
  std::map<std::pair<client_id, client_id>, uint64_t> counts;
  for (int32_t round = 0; round < draws; ++round) {
    auto ids = s->sample(2, round);
    REQUIRE(ids.size() == 2);
    REQUIRE(ids[0] < ids[1]);
    ++counts[{ids[0], ids[1]}];
  }
  std::vector<uint64_t> observed;
  std::vector<double> expected;
  for (client_id i = 0; i < 4; ++i)
    for (client_id j = i + 1; j < 4; ++j) {
      double p = w[i] / total * w[j] / (total - w[i]) + w[j] / total * w[i] / (total - w[j]);
      observed.push_back(counts[{i, j}]);
      expected.push_back(p * draws);
    }
  CHECK(chi_square(observed, expected) < chi2_999_dof5);
}

TEST_CASE("weighted sampler never picks clients with 0 samples",
          "[population][sampler][weighted]") {
  auto reg = make_registry(6, {0, 5, 0, 1, 0, 9});
  auto s = make_sampler(sampling_kind::weighted, reg, 4);
  for (int32_t round = 0; round < 200; ++round) {
    for (client_id id : s->sample(2, round)) REQUIRE(reg.num_samples(id) > 0);
  }
  CHECK(s->sample(3, 200) == std::vector<client_id>{1, 3, 5});
  CHECK_THROWS_AS(s->sample(4, 201), std::invalid_argument);
}

TEST_CASE("weighted sampler draws among the non-excluded in proportion to their samples",
          "[population][sampler][weighted]") {
  auto reg = make_registry(3, {1, 2, 7});
  auto s = make_sampler(sampling_kind::weighted, reg, 8);
  auto no_heavy = [](client_id id) { return id == 2; };
  const int draws = 12000;
  std::vector<uint64_t> counts(2, 0);
  for (int32_t round = 0; round < draws; ++round) ++counts[s->sample(1, round, no_heavy).at(0)];
  CHECK(chi_square(counts, {draws / 3.0, 2 * draws / 3.0}) < chi2_999_dof2);
}

TEST_CASE("weighted sampler restores its tree after every call",
          "[population][sampler][weighted]") {
  // Two samplers whose first calls differ end with the same second call (same stream key:
  // round 5, call 1); equal answers show each first call left the weights as it found them.
  std::vector<uint32_t> w(1000);
  for (client_id id = 0; id < 1000; ++id) w[id] = 1 + id % 17;
  auto reg_a = make_registry(1000, w);
  auto reg_b = make_registry(1000, w);
  auto a = make_sampler(sampling_kind::weighted, reg_a, 31);
  auto b = make_sampler(sampling_kind::weighted, reg_b, 31);
  a->sample(300, 1);
  b->sample(10, 2, [](client_id id) { return id < 500; });
  CHECK(a->sample(50, 5) == b->sample(50, 5));
}

// ---- least_recent ----

namespace {

// Reference: eligible clients ordered by (last_round, id), first k, ascending.
std::vector<client_id> least_recent_reference(const client_registry& reg, uint32_t k,
                                              const sampler::exclude_fn& excluded) {
  std::vector<std::pair<int32_t, client_id>> order;
  for (client_id id = 0; id < reg.size(); ++id)
    if (!(excluded && excluded(id))) order.emplace_back(reg.last_round(id), id);
  std::sort(order.begin(), order.end());
  std::vector<client_id> ids;
  for (uint32_t i = 0; i < k; ++i) ids.push_back(order[i].second);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

TEST_CASE("least_recent sampler covers every client before any repeats (n=1000, k=70)",
          "[population][sampler][least_recent]") {
  auto reg = make_registry(1000);
  auto s = make_sampler(sampling_kind::least_recent, reg, 0);
  std::vector<int> times(1000, 0);
  const int rounds = (1000 + 69) / 70;  // 15
  for (int32_t round = 0; round < rounds; ++round) {
    auto ids = s->sample(70, round);
    if (round == 0) CHECK(ids == std::vector<client_id>(all_ids(70)));
    for (client_id id : ids) ++times[id];
    if (round == rounds - 2) {  // 14 rounds = 980 picks, all distinct
      for (client_id id = 0; id < 980; ++id) REQUIRE(times[id] == 1);
      for (client_id id = 980; id < 1000; ++id) REQUIRE(times[id] == 0);
    }
  }
  // The 15th round takes the last 20 never-picked, then the 50 oldest: ids 0..49 of round 0.
  for (client_id id = 0; id < 1000; ++id) REQUIRE(times[id] == (id < 50 ? 2 : 1));
}

TEST_CASE("least_recent sampler orders by oldest last_round with ties by id",
          "[population][sampler][least_recent]") {
  auto reg = make_registry(10);
  auto s = make_sampler(sampling_kind::least_recent, reg, 0);
  CHECK(s->sample(3, 0) == std::vector<client_id>{0, 1, 2});
  CHECK(s->sample(3, 1) == std::vector<client_id>{3, 4, 5});
  CHECK(s->sample(3, 2) == std::vector<client_id>{6, 7, 8});
  CHECK(s->sample(3, 3) == std::vector<client_id>{0, 1, 9});
  CHECK(s->sample(3, 4) == std::vector<client_id>{2, 3, 4});
  CHECK(s->sample(4, 5) == std::vector<client_id>{5, 6, 7, 8});
  CHECK(s->sample(2, 6) == std::vector<client_id>{0, 1});
}

TEST_CASE("least_recent sampler skips excluded clients but keeps their place",
          "[population][sampler][least_recent]") {
  auto reg = make_registry(10);
  auto s = make_sampler(sampling_kind::least_recent, reg, 0);
  auto one = [](client_id id) { return id == 1; };
  CHECK(s->sample(3, 0, one) == std::vector<client_id>{0, 2, 3});
  CHECK(s->sample(3, 1) == std::vector<client_id>{1, 4, 5});  // 1 never picked: first
  auto six_seven = [](client_id id) { return id == 6 || id == 7; };
  CHECK(s->sample(3, 2, six_seven) == std::vector<client_id>{0, 8, 9});
  CHECK(s->sample(2, 3) == std::vector<client_id>{6, 7});
}

TEST_CASE("least_recent sampler matches a full sort by (last_round, id) under random exclusion",
          "[population][sampler][least_recent]") {
  auto reg = make_registry(37);
  auto ref = make_registry(37);
  auto s = make_sampler(sampling_kind::least_recent, reg, 0);
  rng r{stream_key(5, 0)};
  for (int32_t round = 0; round < 200; ++round) {
    std::set<client_id> in_flight;
    uint64_t m = r.below(20);
    for (uint64_t i = 0; i < m; ++i) in_flight.insert(static_cast<client_id>(r.below(37)));
    auto excluded = [&in_flight](client_id id) { return in_flight.count(id) != 0; };
    auto k = static_cast<uint32_t>(1 + r.below(37 - in_flight.size()));
    auto expected = least_recent_reference(ref, k, excluded);
    for (client_id id : expected) ref.mark_picked(id, round);
    REQUIRE(s->sample(k, round, excluded) == expected);
  }
}

TEST_CASE("least_recent sampler starts from the history already in the registry",
          "[population][sampler][least_recent]") {
  auto reg = make_registry(6);
  reg.mark_picked(0, 4);
  reg.mark_picked(1, 2);
  reg.mark_picked(3, 2);
  reg.mark_picked(5, 7);
  auto s = make_sampler(sampling_kind::least_recent, reg, 0);
  CHECK(s->sample(2, 8) == std::vector<client_id>{2, 4});
  CHECK(s->sample(3, 9) == std::vector<client_id>{0, 1, 3});
  CHECK(s->sample(1, 10) == std::vector<client_id>{5});
}

TEST_CASE("only the weighted and least_recent samplers hold per-client memory",
          "[population][sampler][memory]") {
  auto reg = make_registry(1000);
  CHECK(make_sampler(sampling_kind::random, reg, 0)->bytes() == 0);
  CHECK(make_sampler(sampling_kind::weighted, reg, 0)->bytes() == 1000 * sizeof(uint64_t));
  CHECK(make_sampler(sampling_kind::least_recent, reg, 0)->bytes() == 1000 * sizeof(client_id));
}

// -- checkpoints ---------------------------------------------------------------------------

namespace {

// A sampler of the user's own that does not support checkpoints.
class plain_sampler final : public sampler {
 public:
  std::vector<client_id> sample(uint32_t, int32_t, const exclude_fn&) override { return {}; }
  size_t bytes() const override { return 0; }
};

}  // namespace

TEST_CASE("sampler state restored into a fresh sampler picks what the saved one would",
          "[sampler]") {
  for (auto kind : {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent}) {
    CAPTURE(to_string(kind));
    std::vector<uint32_t> weights;
    for (uint32_t i = 0; i < 50; ++i) weights.push_back(1 + i % 7);
    auto reg_a = make_registry(50, weights);
    auto a = make_sampler(kind, reg_a, 9);
    // Three calls, the second with exclusions (async's in-flight clients).
    a->sample(5, 1);
    a->sample(4, 2, [](client_id id) { return id % 3 == 0; });
    a->sample(6, 2);
    REQUIRE(a->saves_state());
    const auto state = a->save_state();
    // A fresh registry and sampler, as a resumed run builds them, then the saved picks.
    auto reg_b = make_registry(50, weights);
    for (client_id id = 0; id < 50; ++id)
      if (reg_a.last_round(id) != -1) reg_b.mark_picked(id, reg_a.last_round(id));
    auto b = make_sampler(kind, reg_b, 9);
    b->load_state(state.data(), state.size());
    for (int32_t round = 3; round < 8; ++round) {
      const auto excl = [round](client_id id) { return (id + round) % 4 == 0; };
      CHECK(a->sample(7, round, excl) == b->sample(7, round, excl));
    }
  }
}

TEST_CASE("sampler state of another kind or population is refused, a user's sampler has none",
          "[sampler]") {
  auto reg = make_registry(20);
  auto random = make_sampler(sampling_kind::random, reg, 1);
  auto least = make_sampler(sampling_kind::least_recent, reg, 1);
  const auto r = random->save_state();
  CHECK_THROWS_WITH(least->load_state(r.data(), r.size()),
                    "sampler state: saved by a random sampler, this one is least_recent");
  auto small = make_registry(10);
  auto least_small = make_sampler(sampling_kind::least_recent, small, 1);
  const auto l = least_small->save_state();
  CHECK_THROWS_WITH(least->load_state(l.data(), l.size()),
                    "sampler state: a ring of 10 clients, the population has 20");
  plain_sampler mine;
  CHECK_FALSE(mine.saves_state());
  CHECK_THROWS_AS(mine.save_state(), std::logic_error);
}
