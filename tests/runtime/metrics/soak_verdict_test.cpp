// soak_verdict: warm-up cut, peak-RSS tolerance and counter drift, on hand-made samples.

#include "runtime/metrics/soak_verdict.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

// Ten samples every 100 updates (100 ... 1000); peak RSS and one counter per sample.
std::vector<soak_sample> series(const std::vector<uint64_t>& peak,
                                const std::vector<uint64_t>& counter) {
  std::vector<soak_sample> out;
  for (size_t i = 0; i < peak.size(); ++i)
    out.push_back(soak_sample{100 * (i + 1), peak[i] / 2, peak[i], {counter[i]}});
  return out;
}

}  // namespace

TEST_CASE("a soak whose peak RSS settles after the warm-up and whose counters wander is flat",
          "[metrics]") {
  // Warm-up 10 % of 1000 updates: sample 0 (100 updates) is the first after it.
  auto v = judge_soak(series({1000, 1010, 1020, 1030, 1040, 1045, 1049, 1049, 1049, 1049},
                             {7, 9, 12, 8, 10, 11, 9, 12, 8, 12}),
                      {"versions"});
  CHECK(v.flat);
  CHECK(v.problem.empty());
  CHECK(v.warmup_sample == 0);
  CHECK(v.peak_rss_at_warmup == 1000);
  CHECK(v.peak_rss_at_end == 1049);
  CHECK(v.peak_rss_growth == Approx(0.049));
  REQUIRE(v.counters.size() == 1);
  CHECK(v.counters[0].name == "versions");
  CHECK(v.counters[0].first_half_max == 12);  // samples 0-4
  CHECK(v.counters[0].last_half_max == 12);   // samples 5-9
  CHECK_FALSE(v.counters[0].drifting);
}

TEST_CASE("a soak whose peak RSS grows more than 5 % after the warm-up is not flat", "[metrics]") {
  soak_limits l;
  l.warmup_fraction = 0.35;  // samples 0-2 (100-300 updates) are the warm-up
  auto v = judge_soak(series({500, 800, 1000, 1000, 1020, 1030, 1040, 1050, 1051, 1060},
                             {3, 3, 3, 3, 3, 3, 3, 3, 3, 3}),
                      {"in_flight"}, l);
  CHECK_FALSE(v.flat);
  CHECK(v.warmup_sample == 3);
  CHECK(v.peak_rss_at_warmup == 1000);
  CHECK(v.peak_rss_at_end == 1060);
  CHECK(v.peak_rss_growth == Approx(0.06));
  CHECK(v.problem == "peak RSS grew by 6.0 % after the warm-up (at most 5.0 %)");
}

TEST_CASE("a counter that keeps climbing drifts, one that wanders by one does not", "[metrics]") {
  std::vector<soak_sample> s;
  // Counter a: +3 per sample (a leak). Counter b: 40 then 41 (within slack 2 = floor(5 % of
  // 40)). Counter c: 1 then 2 (the slack is at least one). Counter d: 40 then 43 (over 2).
  for (uint64_t i = 0; i < 8; ++i)
    s.push_back(soak_sample{
        1000 * (i + 1), 10, 10, {3 * i, i < 4 ? 40u : 41u, i < 4 ? 1u : 2u, i < 4 ? 40u : 43u}});
  auto v = judge_soak(s, {"a", "b", "c", "d"});
  CHECK_FALSE(v.flat);
  CHECK(v.warmup_sample == 0);
  REQUIRE(v.counters.size() == 4);
  CHECK(v.counters[0].first_half_max == 9);
  CHECK(v.counters[0].last_half_max == 21);
  CHECK(v.counters[0].drifting);
  CHECK_FALSE(v.counters[1].drifting);
  CHECK_FALSE(v.counters[2].drifting);
  CHECK(v.counters[3].drifting);
  CHECK(v.problem ==
        "counter a drifts: at most 9 in the first half, 21 in the last; counter d drifts: at "
        "most 40 in the first half, 43 in the last");
}

TEST_CASE("a soak with too few samples after the warm-up, or ragged samples, is not flat",
          "[metrics]") {
  std::vector<soak_sample> s;
  for (uint64_t i = 0; i < 4; ++i) s.push_back(soak_sample{100 * (i + 1), 1, 1, {0}});
  auto v = judge_soak(s, {"x"});  // warm-up 40 updates: all four count
  CHECK(v.flat);
  soak_limits l;
  l.warmup_fraction = 0.5;  // 200 updates: samples 1-3 after it
  v = judge_soak(s, {"x"}, l);
  CHECK_FALSE(v.flat);
  CHECK(v.problem == "3 samples after the warm-up, at least 4 needed");
  v = judge_soak({}, {"x"});
  CHECK_FALSE(v.flat);
  CHECK(v.problem == "0 samples after the warm-up, at least 4 needed");
  s[2].counters.push_back(1);
  v = judge_soak(s, {"x"});
  CHECK_FALSE(v.flat);
  CHECK(v.problem == "sample 2 has 2 counters, expected 1");
}
