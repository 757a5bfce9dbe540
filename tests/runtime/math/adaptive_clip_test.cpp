// Tests of runtime/math/adaptive_clip.*: the geometric quantile-tracking clip bound.

#include "runtime/math/adaptive_clip.hpp"

#include <cmath>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("adaptive_clip steps C by exp(-lr (b - gamma))", "[math][robust]") {
  adaptive_clip c(2.0, 0.5, 0.2);
  CHECK(c.bound() == 2.0);
  // 8 of 10 within: b = 0.8 > 0.5, shrink: 2 exp(-0.2 × 0.3).
  c.update(8, 10);
  CHECK(c.bound() == Approx(2.0 * std::exp(-0.06)).epsilon(1e-15));
  const double after_first = c.bound();
  // 1 of 4 within: b = 0.25 < 0.5, grow by exp(0.05).
  c.update(1, 4);
  CHECK(c.bound() == Approx(after_first * std::exp(0.05)).epsilon(1e-15));
  // Exactly the target: no move.
  const double before = c.bound();
  c.update(5, 10);
  CHECK(c.bound() == before);
  // No update: no move.
  c.update(0, 0);
  CHECK(c.bound() == before);
}

TEST_CASE("adaptive_clip converges to the target quantile of a fixed norm distribution",
          "[math][robust]") {
  // Norms 1, 2, ..., 10; target 0.3: C settles between 3 and 4 (3 of 10 norms within).
  adaptive_clip c(50.0, 0.3, 0.2);
  for (int round = 0; round < 300; ++round) {
    uint64_t within = 0;
    for (int n = 1; n <= 10; ++n) within += n <= c.bound() ? 1 : 0;
    c.update(within, 10);
  }
  CHECK(c.bound() >= 2.5);
  CHECK(c.bound() <= 4.5);
}
