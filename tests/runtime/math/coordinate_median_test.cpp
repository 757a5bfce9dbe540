// Tests of runtime/math/coordinate_median.*: hand-computed medians, odd and even k, and NaN.

#include "runtime/math/coordinate_median.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

std::vector<float> median_of(const std::vector<std::vector<float>>& xs) {
  std::vector<const float*> ptrs;
  for (const auto& x : xs) ptrs.push_back(x.data());
  std::vector<float> out(xs.front().size());
  coordinate_median(ptrs, out.size(), out.data());
  return out;
}

}  // namespace

TEST_CASE("coordinate_median of an odd number of updates is the middle value per coordinate",
          "[math][robust]") {
  // Coordinate 0: {1, 9, 3} -> 3; coordinate 1: {-2, 5, 100} -> 5.
  CHECK(median_of({{1, -2}, {9, 5}, {3, 100}}) == std::vector<float>{3, 5});
  CHECK(median_of({{7, 8}}) == std::vector<float>{7, 8});
}

TEST_CASE("coordinate_median of an even number of updates is the mean of the two middle values",
          "[math][robust]") {
  // Coordinate 0: {1, 2, 4, 100} -> (2 + 4) / 2 = 3; coordinate 1: {0, 0, 1, -1} -> 0.
  CHECK(median_of({{4, 0}, {1, 0}, {100, 1}, {2, -1}}) == std::vector<float>{3, 0});
  CHECK(median_of({{1}, {2}}) == std::vector<float>{1.5f});
}

TEST_CASE("coordinate_median orders NaN above every value: a NaN minority is outvoted",
          "[math][robust]") {
  // Coordinate 0: {1, NaN, 3} -> sorted {1, 3, NaN}: 3. Coordinate 1: {NaN, NaN, 0}: NaN.
  const auto m = median_of({{1, NAN}, {NAN, NAN}, {3, 0}});
  CHECK(m[0] == 3.0f);
  CHECK(std::isnan(m[1]));
  // Even k: {1, 2, NaN, 5} -> sorted {1, 2, 5, NaN}: (2 + 5) / 2.
  CHECK(median_of({{1}, {NAN}, {2}, {5}}) == std::vector<float>{3.5f});
}
