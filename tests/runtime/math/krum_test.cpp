// Tests of runtime/math/krum.*: hand-computed Krum scores, selection, multi-Krum and NaN.

#include "runtime/math/krum.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

std::vector<const float*> ptrs(const std::vector<std::vector<float>>& xs) {
  std::vector<const float*> out;
  for (const auto& x : xs) out.push_back(x.data());
  return out;
}

}  // namespace

TEST_CASE("krum_neighbours is n - f - 2, at least 1 and at most n - 1", "[math][robust]") {
  CHECK(krum_neighbours(10, 2) == 6);
  CHECK(krum_neighbours(5, 1) == 2);
  CHECK(krum_neighbours(4, 2) == 1);  // 0 -> at least 1
  CHECK(krum_neighbours(3, 0) == 1);
  CHECK(krum_neighbours(2, 0) == 1);
  CHECK(krum_neighbours(1, 0) == 0);
}

TEST_CASE("krum scores are the sums of squared distances to the nearest n - f - 2 others",
          "[math][robust]") {
  // Points on a line: 0, 1, 3, 100; n = 4, f = 1: one neighbour each.
  // Squared distances: 0-1: 1, 0-3: 9, 1-3: 4, 100-3: 9409.
  const std::vector<std::vector<float>> xs{{0}, {1}, {3}, {100}};
  CHECK(krum_scores(ptrs(xs), 1, 1) == std::vector<double>{1, 1, 4, 9409});
  // f = 0: two neighbours. 0: 1 + 9 = 10; 1: 1 + 4 = 5; 3: 4 + 9 = 13; 100: 9409 + 9801.
  CHECK(krum_scores(ptrs(xs), 1, 0) == std::vector<double>{10, 5, 13, 19210});
  // Krum (m = 1) with f = 0 picks point 1; ties at f = 1 go to the lower index.
  CHECK(krum_select(ptrs(xs), 1, 0, 1) == std::vector<size_t>{1});
  CHECK(krum_select(ptrs(xs), 1, 1, 2) == std::vector<size_t>{0, 1});
  CHECK(krum_select(ptrs(xs), 1, 0, 9) == std::vector<size_t>{1, 0, 2, 3});
}

TEST_CASE("multi_krum averages the m lowest-scored updates", "[math][robust]") {
  // 2-D: three honest points near the origin, one far outlier.
  const std::vector<std::vector<float>> xs{{1, 0}, {0, 1}, {50, 50}, {1, 1}};
  // Squared distances: a-b 2, a-c 4901, a-d 1, b-c 4901, b-d 1, c-d 4802.
  // f = 1 -> 1 neighbour: a 1, b 1, c 4802, d 1.
  CHECK(krum_scores(ptrs(xs), 2, 1) == std::vector<double>{1, 1, 4802, 1});
  std::vector<float> out(2);
  multi_krum(ptrs(xs), 2, 1, 1, out.data());
  CHECK(out == std::vector<float>{1, 0});  // Krum: the first of the tied lowest
  multi_krum(ptrs(xs), 2, 1, 3, out.data());
  CHECK(out == std::vector<float>{static_cast<float>(2.0 / 3.0), static_cast<float>(2.0 / 3.0)});
}

TEST_CASE("krum scores an update with NaN as infinite: it is never picked before a finite one",
          "[math][robust]") {
  const std::vector<std::vector<float>> xs{{0, 0}, {NAN, 0}, {1, 0}, {2, 0}};
  const auto scores = krum_scores(ptrs(xs), 2, 0);
  CHECK(std::isinf(scores[1]));
  // 0: neighbours 1 (to 1), 4 (to 3): 5; 2: 1 + 1 = 2; 3: 1 + 4 = 5.
  CHECK(scores[0] == 5);
  CHECK(scores[2] == 2);
  CHECK(scores[3] == 5);
  std::vector<float> out(2);
  multi_krum(ptrs(xs), 2, 0, 3, out.data());
  CHECK(out == std::vector<float>{1, 0});  // mean of 2, 0, 3
}
