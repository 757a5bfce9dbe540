#include "runtime/learning/model_spec.hpp"

#include <cmath>

#include <catch2/catch.hpp>

TEST_CASE("the tutorial's 32-64-10 MLP has 2762 parameters", "[learning]") {
  fedactor::model_spec spec;
  CHECK(spec.widths() == std::vector<uint32_t>{32, 64, 10});
  CHECK(spec.num_params() == 32 * 64 + 64 + 64 * 10 + 10);
  fedactor::model_spec logistic{2, {}, 3};
  CHECK(logistic.num_params() == 2 * 3 + 3);
}

TEST_CASE("initial parameters are seeded and within PyTorch's default bounds", "[learning]") {
  fedactor::model_spec spec;
  auto a = fedactor::initial_params(spec, 5);
  auto b = fedactor::initial_params(spec, 5);
  auto c = fedactor::initial_params(spec, 6);
  REQUIRE(a.size() == spec.num_params());
  CHECK(a == b);
  CHECK(a != c);
  // First layer: fan_in 32 -> bound 1/sqrt(32); second layer: fan_in 64 -> 1/8.
  const size_t first = 32 * 64 + 64;
  for (size_t i = 0; i < a.size(); ++i) {
    const double bound = i < first ? 1.0 / std::sqrt(32.0) : 1.0 / 8.0;
    REQUIRE(std::fabs(a[i]) <= bound);
  }
}
