// Tests of runtime/population/pace_steering.*: the failure-rate EWMA and the over-selection
// factor it gives, on a hand-made failure sequence.

#include "runtime/population/pace_steering.hpp"

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("pace_steering over-selects by 1 / (1 - EWMA of the failure rate), capped",
          "[population][pace]") {
  pace_steering p(0.5, 2.0);
  CHECK(p.failure_rate() == 0.0);
  CHECK(p.factor() == 1.0);
  CHECK(p.wanted(10) == 10);
  // Round 1: 10 selected, 2 failed: f = 0.5 · 0 + 0.5 · 0.2 = 0.1; factor 1 / 0.9 = 1.111...
  p.observe(10, 2);
  CHECK(p.failure_rate() == Approx(0.1));
  CHECK(p.factor() == Approx(1.0 / 0.9));
  CHECK(p.wanted(10) == 12);  // ceil(11.11)
  // Round 2: 12 selected, 6 failed: f = 0.05 + 0.25 = 0.3; factor 1 / 0.7 = 1.4286.
  p.observe(12, 6);
  CHECK(p.failure_rate() == Approx(0.3));
  CHECK(p.wanted(10) == 15);  // ceil(14.29)
  // A round that selected nobody leaves f unchanged.
  p.observe(0, 0);
  CHECK(p.failure_rate() == Approx(0.3));
  // Round 3: everyone failed: f = 0.15 + 0.5 = 0.65; 1 / 0.35 = 2.86, capped at 2.
  p.observe(14, 14);
  CHECK(p.failure_rate() == Approx(0.65));
  CHECK(p.factor() == 2.0);
  CHECK(p.wanted(10) == 20);
  // Round 4: no failure: f = 0.325; 1 / 0.675 = 1.4815: 15 of 10.
  p.observe(20, 0);
  CHECK(p.failure_rate() == Approx(0.325));
  CHECK(p.wanted(10) == 15);
}

TEST_CASE("pace_steering with ewma 1 follows the last round, exact products are not rounded up",
          "[population][pace]") {
  pace_steering p(1.0, 1.3);
  p.observe(100, 50);  // f = 0.5: 2, capped at 1.3 (Google's 30 %)
  CHECK(p.factor() == Approx(1.3));
  CHECK(p.wanted(10) == 13);  // 10 × 1.3 = 13.000000000000002 in floating point: still 13
  p.observe(100, 100);        // f = 1: the cap
  CHECK(p.factor() == Approx(1.3));
  p.set_failure_rate(0.2);  // as restored from a checkpoint: 1 / 0.8 = 1.25
  CHECK(p.wanted(8) == 10);
}
