#include <catch2/catch.hpp>

#include <cmath>

#include "runtime/math/update_spread.hpp"

using namespace fedactor;

TEST_CASE("update_spread: weighted variance and relative variance of hand-made updates",
          "[math][update_spread]") {
  // Updates (1, 0) weight 1 and (3, 0) weight 3: mean (2.5, 0), ||mean||^2 = 6.25;
  // S / W = (1 x 1 + 3 x 9) / 4 = 7; var = 7 - 6.25 = 0.75 (= (1 x 1.5^2 + 3 x 0.5^2) / 4);
  // relative variance 0.75 / (2 x 6.25) = 0.06.
  update_spread s;
  s.add(1, 1.0);
  s.add(3, 9.0);
  CHECK(s.count() == 2);
  CHECK(s.weight() == 4);
  CHECK(s.variance(6.25) == 0.75);
  CHECK(s.relative_variance(6.25) == Approx(0.06));
}

TEST_CASE("update_spread: parts merge into the whole's sums", "[math][update_spread]") {
  // Equal weights: (1, 1), (-1, 1), (3, 1): mean (1, 1), ||mean||^2 = 2;
  // S / W = (2 + 2 + 10) / 3 = 14 / 3; var = 8 / 3; relative 8 / 3 / (3 x 2) = 4 / 9.
  update_spread a, b;
  a.add(1, 2.0);
  a.add(1, 2.0);
  b.add(1, 10.0);
  a.merge(b);
  CHECK(a.count() == 3);
  CHECK(a.variance(2.0) == Approx(8.0 / 3.0));
  CHECK(a.relative_variance(2.0) == Approx(4.0 / 9.0));
}

TEST_CASE("update_spread: identical updates, zero mean, no updates", "[math][update_spread]") {
  update_spread same;
  same.add(2, 4.0);
  same.add(5, 4.0);
  CHECK(same.variance(4.0) == 0.0);
  CHECK(same.relative_variance(4.0) == 0.0);
  update_spread opposite;  // (1) and (-1): mean 0, var 1
  opposite.add(1, 1.0);
  opposite.add(1, 1.0);
  CHECK(opposite.variance(0.0) == 1.0);
  CHECK(std::isinf(opposite.relative_variance(0.0)));
  update_spread none;
  CHECK(none.variance(0.0) == 0.0);
  CHECK(none.relative_variance(1.0) == 0.0);
}
