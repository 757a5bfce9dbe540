// Tests of runtime/privacy/update_clip.*: DP-FedAvg's clipping of a client's update.

#include "runtime/privacy/update_clip.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("clip_difference scales a delta above the bound to norm C and leaves one within it",
          "[privacy]") {
  const std::vector<float> model{1, -1};
  const std::vector<float> params{4, 3};  // Δ = (3, 4), ‖Δ‖ = 5
  std::vector<float> out(2);

  auto c = clip_difference(params.data(), model.data(), 2, 2.5, out.data());
  CHECK(c.norm == 5.0);
  CHECK(c.scale == 0.5);
  CHECK_FALSE(c.within);
  CHECK(out == std::vector<float>{1.5f, 2.0f});

  c = clip_difference(params.data(), model.data(), 2, 5.0, out.data());  // ‖Δ‖ = C: within
  CHECK(c.within);
  CHECK(c.scale == 1.0);
  CHECK(out == std::vector<float>{3.0f, 4.0f});

  c = clip_difference(params.data(), model.data(), 2, 10.0, out.data());
  CHECK(c.within);
  CHECK(out == std::vector<float>{3.0f, 4.0f});

  // Δ = (0.1f − 0, 0): C = 0.05 halves it, the norm taken in double of the float Δ.
  const std::vector<float> zero{0, 0}, small{0.1f, 0};
  c = clip_difference(small.data(), zero.data(), 2, 0.05, out.data());
  CHECK(c.norm == static_cast<double>(0.1f));
  CHECK(out[0] == static_cast<float>(static_cast<double>(0.1f) * (0.05 / c.norm)));
  CHECK(out[1] == 0.0f);
}

TEST_CASE("clip_difference marks a delta that is not finite", "[privacy]") {
  const std::vector<float> model{0, 0};
  const std::vector<float> inf_params{std::numeric_limits<float>::infinity(), 0};
  const std::vector<float> nan_params{NAN, 0};
  std::vector<float> out(2);
  CHECK_FALSE(clip_difference(inf_params.data(), model.data(), 2, 1, out.data()).finite());
  CHECK_FALSE(clip_difference(nan_params.data(), model.data(), 2, 1, out.data()).finite());
  const std::vector<float> fine{0.5f, 0};
  CHECK(clip_difference(fine.data(), model.data(), 2, 1, out.data()).finite());
}
