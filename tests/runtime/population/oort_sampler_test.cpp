#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/population/oort_sampler.hpp"
#include "runtime/population/registry.hpp"

using namespace fedactor;

namespace {

client_registry make_registry(uint64_t n, uint32_t samples = 10) {
  return client_registry(n, 1, 1, [samples](client_id) { return samples; });
}

// Every pick reports (loss, samples, duration(id)) after its round.
template <class Duration>
void report_all(oort_sampler& s, const std::vector<client_id>& picks, double loss, uint32_t samples,
                Duration duration) {
  for (auto id : picks) s.observe(id, client_outcome{loss, samples, duration(id)});
}

}  // namespace

TEST_CASE("oort statistical utility is samples times the mean loss", "[population][oort]") {
  CHECK(oort_sampler::statistical_utility({2.5, 40, 1.0}) == 100.0);
  CHECK(oort_sampler::statistical_utility({-1.0, 40, 1.0}) == 0.0);
  CHECK(oort_sampler::statistical_utility({NAN, 40, 1.0}) == 0.0);
}

TEST_CASE("oort scores hand-computed clients: utility, staleness and the speed penalty",
          "[population][oort]") {
  auto reg = make_registry(10);
  oort_sampler s(reg, 7, oort_config{});
  // Round 1's reports of clients 0, 1, 2: utility 20, 10, 30; durations 5, 10, 40.
  for (client_id id : {0u, 1u, 2u}) reg.mark_picked(id, 1);
  s.observe(0, {2.0, 10, 5.0});
  s.observe(1, {0.5, 20, 10.0});
  s.observe(2, {1.0, 30, 40.0});
  s.sample(1, 2, {});
  // T: the 30th percentile of [5, 10, 40] is index floor(3 x 0.3) = 0: 5 s.
  CHECK(s.preferred_duration() == 5.0);
  CHECK(s.exploration() == Approx(0.9 * 0.98));
  // Normalisation: min 10 x 0.999 = 9.99, range 30 - 9.99 = 20.01, clip at index
  // floor(3 x 0.9) = 2: 30 (no clipping). Staleness: sqrt(0.1 ln 2 / 1) = 0.263277...
  const double bonus = std::sqrt(0.1 * std::log(2.0) / 1.0);
  CHECK(bonus == Approx(0.2632769));
  CHECK(s.score(0) == Approx((20 - 9.99) / 20.01 + bonus));           // 0.763527, fast
  CHECK(s.score(1) == Approx(((10 - 9.99) / 20.01 + bonus) * 0.25));  // (5 / 10)^2
  CHECK(s.score(2) == Approx(((30 - 9.99) / 20.01 + bonus) / 64.0));  // (5 / 40)^2
  CHECK(s.score(0) == Approx(0.7635267));
  CHECK(s.score(1) == Approx(0.0659442));
  CHECK(s.score(2) == Approx(0.0197387));
  CHECK(s.score(5) == 0.0);  // never reported
}

TEST_CASE("oort penalty exponent alpha and utility clipping follow the settings",
          "[population][oort]") {
  auto reg = make_registry(20);
  oort_config cfg;
  cfg.penalty = 1.0;
  cfg.round_threshold = 50;
  cfg.clip_bound = 0.5;
  oort_sampler s(reg, 1, cfg);
  // Utilities 10, 20, 30, 40 (loss 1, samples 10 x i), durations 1, 2, 3, 4, reported in round 2.
  for (client_id id = 1; id <= 4; ++id) {
    reg.mark_picked(id, 2);
    s.observe(id, {1.0, 10 * id, static_cast<double>(id)});
  }
  s.sample(1, 3, {});
  // T: index floor(4 x 0.5) = 2 of [1, 2, 3, 4]: 3. Clip: index floor(4 x 0.5) = 2: 30.
  CHECK(s.preferred_duration() == 3.0);
  const double min = 10 * 0.999, range = 40 - min;
  const double bonus = std::sqrt(0.1 * std::log(3.0) / 2.0);
  CHECK(s.score(2) == Approx((20 - min) / range + bonus));
  CHECK(s.score(3) == Approx((30 - min) / range + bonus));
  // Client 4: utility clipped to 30, and slower than T: x (3 / 4)^1.
  CHECK(s.score(4) == Approx(((30 - min) / range + bonus) * 0.75));
}

TEST_CASE("oort exploration share per round follows epsilon, decaying x0.98 to its floor",
          "[population][oort]") {
  auto reg = make_registry(100000);
  oort_sampler s(reg, 3, oort_config{});
  const uint32_t k = 20;
  for (int32_t round = 1; round <= 80; ++round) {
    const auto& st = s.stats();
    const uint64_t reported_before = st.reported_count();
    auto picks = s.sample(k, round, {});
    REQUIRE(picks.size() == k);
    const double eps = std::max(0.9 * std::pow(0.98, round), 0.3);
    CHECK(s.exploration() == Approx(eps));
    uint32_t explored = 0;
    for (auto id : picks)
      if (!st.reported(id)) ++explored;
    const auto target = static_cast<uint32_t>(k * s.exploration());
    if (reported_before >= k) {
      CHECK(explored == target);
      CHECK(s.last_exploited().size() == k - target);
    } else {
      CHECK(explored == k);  // round 1: nobody to exploit
    }
    report_all(s, picks, 1.0, 10, [](client_id id) { return 1.0 + id % 7; });
  }
  CHECK(s.exploration() == 0.3);
  CHECK(static_cast<uint32_t>(k * s.exploration()) == 6);
}

TEST_CASE("oort pacer relaxes the preferred duration after a plateau window",
          "[population][oort]") {
  auto reg = make_registry(500);
  oort_config cfg;
  cfg.pacer_step = 3;
  oort_sampler s(reg, 11, cfg);
  // Every report has utility 10: the history is 0 (round 1), 0 (round 1 exploited nobody),
  // (FedScale's pacer compares sums of the mean exploited utility per round)
  // then 10 each round. Round 6 compares [0, 0, 10] with [10, 10, 10]: no plateau; round 9
  // [10, 10, 10] with [10, 10, 10]: a plateau, threshold 30 -> 35; round 12 -> 40.
  std::vector<double> threshold;
  for (int32_t round = 1; round <= 12; ++round) {
    auto picks = s.sample(10, round, {});
    threshold.push_back(s.round_threshold());
    report_all(s, picks, 1.0, 10, [](client_id id) { return 1.0 + id; });
  }
  CHECK(threshold == std::vector<double>{30, 30, 30, 30, 30, 30, 30, 30, 35, 35, 35, 40});
}

TEST_CASE("oort pacer does not relax while the exploited utility keeps rising",
          "[population][oort]") {
  auto reg = make_registry(500);
  oort_config cfg;
  cfg.pacer_step = 3;
  oort_sampler s(reg, 11, cfg);
  // Utility grows 15 % a round: windows differ by more than 10 % (and less than 5x).
  double loss = 1.0;
  for (int32_t round = 1; round <= 12; ++round) {
    auto picks = s.sample(10, round, {});
    report_all(s, picks, loss, 10, [](client_id) { return 1.0; });
    loss *= 1.15;
  }
  CHECK(s.round_threshold() == 30);
}

TEST_CASE("oort favours fast clients in a two-speed population", "[population][oort]") {
  auto reg = make_registry(400);
  oort_sampler s(reg, 5, oort_config{});
  auto duration = [](client_id id) { return id % 2 == 0 ? 1.0 : 10.0; };  // even ids fast
  uint64_t fast = 0, slow = 0;
  for (int32_t round = 1; round <= 60; ++round) {
    auto picks = s.sample(20, round, {});
    if (round > 30)
      for (auto id : picks) (id % 2 == 0 ? fast : slow)++;
    report_all(s, picks, 1.0, 10, duration);
  }
  // Exploited picks are fast (a slow one scores (1 / 10)^2 of a fast one); explored ones are
  // half and half. Rounds 31-60 explore about 0.9 x 0.98^r (0.49 to 0.3) of each round.
  CHECK(fast + slow == 600);
  CHECK(fast > 2 * slow);
  // Random sampling would pick each kind about 300 times.
}

TEST_CASE("oort starves no client: every client is picked again within a bound",
          "[population][oort]") {
  SECTION("equal speeds") {
    auto reg = make_registry(20);
    oort_sampler s(reg, 9, oort_config{});
    std::vector<int32_t> last(20, 0);
    int32_t longest = 0;
    for (int32_t round = 1; round <= 300; ++round) {
      auto picks = s.sample(4, round, {});
      for (auto id : picks) {
        longest = std::max(longest, round - last[id]);
        last[id] = round;
      }
      report_all(s, picks, 1.0, 10, [](client_id) { return 1.0; });
    }
    for (client_id id = 0; id < 20; ++id) longest = std::max(longest, 301 - last[id]);
    // 5 rounds would suffice on average (20 clients, 4 a round); utility-driven sampling with
    // the staleness bonus keeps every gap within a small multiple of that.
    CHECK(longest <= 60);
  }
  SECTION("two speeds: the pacer lifts the penalty once utility plateaus") {
    auto reg = make_registry(20);
    oort_config cfg;
    cfg.pacer_step = 2;
    oort_sampler s(reg, 9, cfg);
    std::set<client_id> late;  // picked in rounds 101-200
    for (int32_t round = 1; round <= 200; ++round) {
      auto picks = s.sample(4, round, {});
      if (round > 100) late.insert(picks.begin(), picks.end());
      report_all(s, picks, 1.0, 10, [](client_id id) { return id < 10 ? 1.0 : 10.0; });
    }
    CHECK(s.round_threshold() == 100.0);
    CHECK(std::isinf(s.preferred_duration()));
    CHECK(late.size() == 20);
  }
}

TEST_CASE("oort skips excluded clients and refuses too few eligible ones", "[population][oort]") {
  auto reg = make_registry(10);
  oort_sampler s(reg, 2, oort_config{});
  for (int32_t round = 1; round <= 5; ++round) {
    auto picks = s.sample(5, round, [](client_id id) { return id % 2 == 1; });
    REQUIRE(picks.size() == 5);
    for (auto id : picks) CHECK(id % 2 == 0);
    report_all(s, picks, 1.0, 10, [](client_id) { return 1.0; });
  }
  const auto before = s.save_state();
  CHECK_THROWS_AS(s.sample(6, 6, [](client_id id) { return id % 2 == 1; }), std::invalid_argument);
  CHECK(s.save_state() == before);
}

TEST_CASE("oort is deterministic and resumes from its saved state with the same picks",
          "[population][oort]") {
  auto duration = [](client_id id) { return 1.0 + (id % 5); };
  auto run = [&](client_registry& reg, oort_sampler& s, int32_t from, int32_t to) {
    std::vector<std::vector<client_id>> out;
    for (int32_t round = from; round <= to; ++round) {
      out.push_back(s.sample(8, round, {}));
      for (auto id : out.back()) s.observe(id, {0.5 + 0.01 * id, 10 + id % 3, duration(id)});
    }
    (void)reg;
    return out;
  };
  auto reg_a = make_registry(300);
  auto reg_b = make_registry(300);
  oort_sampler a(reg_a, 42, oort_config{});
  oort_sampler b(reg_b, 42, oort_config{});
  CHECK(run(reg_a, a, 1, 20) == run(reg_b, b, 1, 20));

  // a goes on; c starts from a's checkpoint (sampler state and registry picks).
  const auto state = a.save_state();
  byte_writer picks;
  reg_a.save_picks(picks);
  const auto reg_bytes = picks.take();
  auto reg_c = make_registry(300);
  byte_reader in(reg_bytes.data(), reg_bytes.size(), "picks");
  reg_c.load_picks(in);
  oort_sampler c(reg_c, 42, oort_config{});
  c.load_state(state.data(), state.size());
  CHECK(c.save_state() == state);
  CHECK(run(reg_a, a, 21, 40) == run(reg_c, c, 21, 40));

  oort_sampler other(reg_c, 43, oort_config{});
  auto reg_d = make_registry(300);
  oort_sampler d(reg_d, 42, oort_config{});
  CHECK(run(reg_d, d, 1, 3) != run(reg_c, other, 1, 3));
}

TEST_CASE("oort refuses another kind's or population's state", "[population][oort]") {
  auto reg = make_registry(30);
  auto small = make_registry(20);
  oort_sampler s(reg, 1, oort_config{});
  oort_sampler t(small, 1, oort_config{});
  const auto state = t.save_state();
  CHECK_THROWS_AS(s.load_state(state.data(), state.size()), checkpoint_error);
  auto random = make_sampler(sampling_kind::random, reg, 1);
  const auto other = random->save_state();
  CHECK_THROWS_WITH(s.load_state(other.data(), other.size()),
                    Catch::Contains("saved by a random sampler"));
}

TEST_CASE("make_sampler builds oort with its settings", "[population][oort]") {
  auto reg = make_registry(50);
  oort_config cfg;
  cfg.exploration = 0.5;
  cfg.exploration_decay = 1.0;
  auto s = make_sampler(sampling_kind::oort, reg, 1, cfg);
  REQUIRE(s->saves_state());
  s->sample(10, 1, {});
  auto* o = dynamic_cast<oort_sampler*>(s.get());
  REQUIRE(o != nullptr);
  CHECK(o->exploration() == 0.5);
}
