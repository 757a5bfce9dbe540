// Tests for runtime/math/normal_fill: the fast deterministic standard normal stream.

#include "runtime/math/normal_fill.hpp"

#include <cmath>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"

using fedactor::fill_normal;
using fedactor::fill_normal_baseline;

TEST_CASE("fill_normal has mean 0, variance 1, normal kurtosis and tails", "[math]") {
  const size_t n = 1000000;
  std::vector<float> x(n);
  fill_normal(7, x.data(), n);
  double mean = 0, var = 0, kurt = 0;
  size_t beyond2 = 0, beyond3 = 0;
  for (float v : x) {
    REQUIRE(std::isfinite(v));
    REQUIRE(std::fabs(v) < 5.8f);
    mean += v;
    var += double(v) * v;
    kurt += double(v) * v * v * v;
    beyond2 += std::fabs(v) > 2;
    beyond3 += std::fabs(v) > 3;
  }
  mean /= n;
  var /= n;
  kurt /= n;
  CHECK(std::fabs(mean) < 0.005);
  CHECK(std::fabs(var - 1) < 0.005);
  CHECK(std::fabs(kurt - 3) < 0.05);
  CHECK(double(beyond2) / n == Approx(0.0455).margin(0.001));
  CHECK(double(beyond3) / n == Approx(0.0027).margin(0.0003));
}

TEST_CASE("fill_normal is a pure function of the key and a prefix of longer fills", "[math]") {
  std::vector<float> a(1000), b(1000), c(1000), short_fill(37);
  fill_normal(11, a.data(), a.size());
  fill_normal(11, b.data(), b.size());
  fill_normal(12, c.data(), c.size());
  fill_normal(11, short_fill.data(), short_fill.size());
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::vector<float>(a.begin(), a.begin() + 37) == short_fill);
}

TEST_CASE("fill_normal gives the same bits on every code path", "[math]") {
  using fedactor::normal_path;
  for (size_t n : {1u, 15u, 16u, 17u, 4000u, 6371u}) {
    std::vector<float> fast(n), base(n);
    fill_normal(99 + n, fast.data(), n);
    fill_normal_baseline(99 + n, base.data(), n);
    CHECK(fast == base);
    for (auto p : {normal_path::baseline, normal_path::avx2, normal_path::avx512}) {
      std::vector<float> on(n, -1.0f);
      if (fedactor::fill_normal_on(p, 99 + n, on.data(), n)) CHECK(on == base);
    }
  }
  // Bits match the stream definition: word 0 of rng{key} makes values 0 and 8.
  fedactor::rng r{5};
  const uint64_t w = r.next();
  const double u1 = double((w >> 40) + 1) / 16777216.0;
  const double u2 = double((w >> 16) & 0xffffff) / 16777216.0;
  float x[16];
  fill_normal(5, x, 16);
  CHECK(x[0] ==
        Approx(std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2)).margin(1e-5));
  CHECK(x[8] ==
        Approx(std::sqrt(-2 * std::log(u1)) * std::sin(6.283185307179586 * u2)).margin(1e-5));
}

TEST_CASE("fill_normal pairs are uncorrelated within and across blocks", "[math]") {
  const size_t n = 160000;
  std::vector<float> x(n);
  fill_normal(3, x.data(), n);
  // Output k and k + 8 share a uniform pair (cosine and sine parts): uncorrelated but not
  // independent; k and k + 1, and k and k + 16 come from different pairs.
  for (size_t lag : {1u, 8u, 16u}) {
    double s = 0;
    for (size_t i = 0; i + lag < n; ++i) s += double(x[i]) * x[i + lag];
    CHECK(std::fabs(s / double(n - lag)) < 0.01);
  }
}
