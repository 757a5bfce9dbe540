#include <catch2/catch.hpp>

#include <limits>

#include "runtime/population/sample_size.hpp"

using namespace fedactor;

namespace {

adaptive_size_config cfg(uint32_t min, uint32_t max) {
  adaptive_size_config c;
  c.enabled = true;
  c.min = min;
  c.max = max;
  c.target_rel_var = 0.1;
  c.grow = 1.5;
  c.shrink = 0.8;
  return c;
}

}  // namespace

TEST_CASE("adaptive sample size grows above the target, shrinks below a quarter of it",
          "[population][sample_size]") {
  const auto c = cfg(2, 100);
  CHECK(next_sample_size(10, 0.2, c) == 15);    // ceil(10 x 1.5)
  CHECK(next_sample_size(11, 0.2, c) == 17);    // ceil(16.5)
  CHECK(next_sample_size(10, 0.1, c) == 10);    // at the target: unchanged
  CHECK(next_sample_size(10, 0.025, c) == 10);  // exactly target / 4: unchanged
  CHECK(next_sample_size(10, 0.02, c) == 8);    // floor(10 x 0.8)
  CHECK(next_sample_size(11, 0.0, c) == 8);     // floor(8.8)
  CHECK(next_sample_size(10, std::numeric_limits<double>::infinity(), c) == 15);
}

TEST_CASE("adaptive sample size stays within [min, max]", "[population][sample_size]") {
  const auto c = cfg(4, 12);
  CHECK(next_sample_size(10, 1.0, c) == 12);
  CHECK(next_sample_size(12, 1.0, c) == 12);
  CHECK(next_sample_size(4, 0.0, c) == 4);
  CHECK(next_sample_size(5, 0.0, c) == 4);
  uint32_t k = 4;
  for (int i = 0; i < 20; ++i) {
    k = next_sample_size(k, i % 3 == 0 ? 0.0 : 5.0, c);
    CHECK(k >= 4);
    CHECK(k <= 12);
  }
}

TEST_CASE("adaptive sample size on hand-made update sets (spread to size)",
          "[population][sample_size]") {
  // Two clients (1, 0) weight 1 and (3, 0) weight 3: relative variance 0.06
  // (tests/runtime/math/update_spread_test.cpp): within [0.025, 0.1], k stays; with target
  // 0.05 it grows, with target 0.3 (quarter 0.075) it shrinks.
  auto c = cfg(1, 50);
  CHECK(next_sample_size(2, 0.06, c) == 2);
  c.target_rel_var = 0.05;
  CHECK(next_sample_size(2, 0.06, c) == 3);
  c.target_rel_var = 0.3;
  CHECK(next_sample_size(2, 0.06, c) == 1);
}
