// Tests of runtime/math/update_norm.*: the L2 norm of an update and clipping to a bound.

#include "runtime/math/update_norm.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("l2_norm of an update is the square root of its sum of squares", "[math][robust]") {
  const std::vector<float> x{3, -4};
  CHECK(l2_norm(x.data(), 2) == 5.0);
  CHECK(l2_norm(x.data(), 0) == 0.0);
  const std::vector<float> bad{1, NAN};
  CHECK(std::isnan(l2_norm(bad.data(), 2)));
  const std::vector<float> inf{1, INFINITY};
  CHECK(std::isinf(l2_norm(inf.data(), 2)));
}

TEST_CASE("clip_factor is min(1, bound over norm)", "[math][robust]") {
  CHECK(clip_factor(5.0, 10.0) == 1.0);
  CHECK(clip_factor(10.0, 10.0) == 1.0);
  CHECK(clip_factor(20.0, 10.0) == 0.5);
  CHECK(clip_factor(0.0, 1.0) == 1.0);
}

TEST_CASE("clip_to_norm scales an update above the bound onto it and leaves others alone",
          "[math][robust]") {
  std::vector<float> x{3, -4};  // norm 5
  CHECK(clip_to_norm(x.data(), 2, 2.5) == 5.0);
  CHECK(x == std::vector<float>{1.5f, -2.0f});  // × 0.5
  std::vector<float> y{3, -4};
  CHECK(clip_to_norm(y.data(), 2, 5.0) == 5.0);
  CHECK(y == std::vector<float>{3, -4});
  CHECK(clip_to_norm(y.data(), 2, 7.0) == 5.0);
  CHECK(y == std::vector<float>{3, -4});
}
