// Tests of runtime/math/trimmed_mean.*: hand-computed trimmed means and NaN.

#include "runtime/math/trimmed_mean.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

std::vector<float> trimmed_of(const std::vector<std::vector<float>>& xs, double beta) {
  std::vector<const float*> ptrs;
  for (const auto& x : xs) ptrs.push_back(x.data());
  std::vector<float> out(xs.front().size());
  trimmed_mean(ptrs, out.size(), beta, out.data());
  return out;
}

}  // namespace

TEST_CASE("trimmed_count drops floor(beta k) at each end, always fewer than half",
          "[math][robust]") {
  CHECK(trimmed_count(10, 0.1) == 1);
  CHECK(trimmed_count(10, 0.3) == 3);  // 0.3 × 10 is 3.0000000000000004 in double
  CHECK(trimmed_count(10, 0.29) == 2);
  CHECK(trimmed_count(5, 0.2) == 1);
  CHECK(trimmed_count(4, 0.2) == 0);
  CHECK(trimmed_count(3, 0.49) == 1);
  CHECK(trimmed_count(2, 0.49) == 0);
  CHECK(trimmed_count(7, 0.0) == 0);
}

TEST_CASE("trimmed_mean drops the t smallest and largest per coordinate and averages the rest",
          "[math][robust]") {
  // k = 5, beta 0.2: t = 1. Coordinate 0: {1, 2, 3, 4, 1000} -> mean(2, 3, 4) = 3.
  // Coordinate 1: {-50, 0, 1, 2, 3} -> mean(0, 1, 2) = 1.
  CHECK(trimmed_of({{1000, 0}, {2, -50}, {3, 1}, {1, 2}, {4, 3}}, 0.2) == std::vector<float>{3, 1});
  // beta 0: the plain mean (1 + 2 + 3 + 4 + 1000) / 5 = 202.
  CHECK(trimmed_of({{1000}, {2}, {3}, {1}, {4}}, 0.0) == std::vector<float>{202});
  // k = 10, beta 0.3: t = 3, the middle four {4, 5, 6, 7} -> 5.5.
  CHECK(trimmed_of({{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}}, 0.3) ==
        std::vector<float>{5.5f});
}

TEST_CASE("trimmed_mean trims up to t NaN away, more make the coordinate NaN", "[math][robust]") {
  // t = 1: {1, 2, 3, NaN, 0} -> sorted {0, 1, 2, 3, NaN} -> mean(1, 2, 3) = 2.
  CHECK(trimmed_of({{1}, {2}, {3}, {NAN}, {0}}, 0.2) == std::vector<float>{2});
  // Two NaN with t = 1: one stays in.
  CHECK(std::isnan(trimmed_of({{1}, {NAN}, {3}, {NAN}, {0}}, 0.2)[0]));
}
