// Tests of runtime/math/dirichlet.*: Gamma and Dirichlet draws on the deterministic rng, and
// largest-remainder rounding.

#include "runtime/math/dirichlet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"

using namespace fedactor;

TEST_CASE("Marsaglia-Tsang gamma draws have the right mean and variance", "[math]") {
  for (double shape : {0.3, 1.0, 2.5, 30.0}) {
    INFO("shape " << shape);
    rng r{stream_key(1, 2, static_cast<uint64_t>(shape * 10))};
    const int n = 40000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) {
      const double g = gamma_draw(r, shape);
      REQUIRE(g >= 0);
      sum += g, sq += g * g;
    }
    const double mean = sum / n;
    const double var = sq / n - mean * mean;
    // Gamma(a, 1): mean a, variance a; the mean's standard error is sqrt(a / n).
    CHECK(std::abs(mean - shape) < 5 * std::sqrt(shape / n));
    CHECK(var == Approx(shape).epsilon(0.1));
  }
}

TEST_CASE("gamma_draw is exp of log_gamma_draw on the same stream", "[math]") {
  for (double shape : {0.05, 0.7, 1.0, 3.0}) {
    INFO("shape " << shape);
    rng a{stream_key(5, 1)};
    rng b{stream_key(5, 1)};
    for (int i = 0; i < 100; ++i)
      REQUIRE(gamma_draw(a, shape) == std::exp(log_gamma_draw(b, shape)));
  }
}

TEST_CASE("a gamma shape below one is a shape-plus-one draw times U to the 1 over shape",
          "[math]") {
  // log Gamma(a) = log Gamma(a + 1) + log(U) / a, with U the next uniform of the stream.
  for (double shape : {0.5, 0.1, 1e-3}) {
    INFO("shape " << shape);
    rng a{stream_key(9, 3)};
    rng b{stream_key(9, 3)};
    for (int i = 0; i < 100; ++i) {
      const double got = log_gamma_draw(a, shape);
      const double g = log_gamma_draw(b, shape + 1.0);
      const double u = b.uniform();
      REQUIRE(got == g + std::log(u) / shape);
    }
  }
}

TEST_CASE("Dirichlet draws sum to one and proportional counts sum exactly", "[math]") {
  rng r{7};
  for (double alpha : {0.01, 0.5, 100.0}) {
    auto p = dirichlet_draw(r, alpha, 50);
    CHECK(std::accumulate(p.begin(), p.end(), 0.0) == Approx(1.0));
    for (double x : p) CHECK(x >= 0);
    auto counts = proportional_counts(p, 1234);
    CHECK(std::accumulate(counts.begin(), counts.end(), size_t{0}) == 1234);
  }
  CHECK(proportional_counts({0.5, 0.25, 0.25}, 5) == std::vector<size_t>{3, 1, 1});
  CHECK(proportional_counts({0.2, 0.2, 0.6}, 4) == std::vector<size_t>{1, 1, 2});
}

TEST_CASE("a Dirichlet draw is the normalised exp of n log-gamma draws of the stream", "[math]") {
  for (double alpha : {0.02, 0.5, 4.0}) {
    INFO("alpha " << alpha);
    rng a{stream_key(3, 4)};
    rng b{stream_key(3, 4)};
    const auto p = dirichlet_draw(a, alpha, 6);
    std::vector<double> expected(6);
    for (auto& l : expected) l = log_gamma_draw(b, alpha);
    const double top = *std::max_element(expected.begin(), expected.end());
    double sum = 0;
    for (auto& l : expected) sum += (l = std::exp(l - top));
    for (auto& l : expected) l /= sum;
    CHECK(p == expected);
    // Both streams are at the same place afterwards: the draw used n gamma draws, no more.
    CHECK(a.next() == b.next());
  }
}

TEST_CASE("Dirichlet draws are non-negative, finite and sum to one for any alpha", "[math]") {
  rng r{stream_key(11, 0)};
  for (double alpha : {1e-6, 1e-3, 0.1, 1.0, 10.0, 1e4}) {
    INFO("alpha " << alpha);
    for (size_t n : {1u, 2u, 10u, 100u}) {
      INFO("n " << n);
      for (int k = 0; k < 20; ++k) {
        const auto p = dirichlet_draw(r, alpha, n);
        REQUIRE(p.size() == n);
        double sum = 0;
        for (double x : p) {
          REQUIRE(std::isfinite(x));
          REQUIRE(x >= 0);
          REQUIRE(x <= 1);
          sum += x;
        }
        // n quotients by a sum of n terms, re-added here: a few rounding errors per term.
        REQUIRE(std::abs(sum - 1.0) <= 3.0 * n * std::numeric_limits<double>::epsilon());
      }
    }
  }
}

TEST_CASE("Dirichlet draws of one component are exactly 1 and of none are empty", "[math]") {
  rng r{stream_key(2, 2)};
  for (double alpha : {1e-4, 0.5, 50.0})
    CHECK(dirichlet_draw(r, alpha, 1) == std::vector<double>{1.0});
  // n = 0 draws nothing: the stream is where it was.
  rng a{stream_key(2, 3)};
  rng b{stream_key(2, 3)};
  CHECK(dirichlet_draw(a, 0.5, 0).empty());
  CHECK(a.next() == b.next());
}

TEST_CASE("Dirichlet draws with the same stream key are identical, others differ", "[math]") {
  rng a{stream_key(42, 7)};
  rng b{stream_key(42, 7)};
  rng c{stream_key(43, 7)};
  for (int k = 0; k < 10; ++k) {
    const auto pa = dirichlet_draw(a, 0.3, 12);
    const auto pb = dirichlet_draw(b, 0.3, 12);
    const auto pc = dirichlet_draw(c, 0.3, 12);
    REQUIRE(pa == pb);
    REQUIRE(pa != pc);
  }
}

TEST_CASE("the mean of many Dirichlet draws is 1 over n within 5 standard errors", "[math]") {
  // Symmetric Dir(alpha) over n components: E p_i = alpha / (n alpha) = 1/n and
  // Var p_i = (1/n)(1 - 1/n) / (n alpha + 1); the mean of m draws has standard error
  // sqrt(Var p_i / m).
  const int m = 20000;
  for (double alpha : {0.1, 1.0, 5.0}) {
    for (size_t n : {2u, 4u, 10u}) {
      INFO("alpha " << alpha << ", n " << n);
      rng r{stream_key(17, n, static_cast<uint64_t>(alpha * 10))};
      std::vector<double> sum(n, 0.0);
      for (int k = 0; k < m; ++k) {
        const auto p = dirichlet_draw(r, alpha, n);
        for (size_t i = 0; i < n; ++i) sum[i] += p[i];
      }
      const double nd = static_cast<double>(n);
      const double var = (1.0 / nd) * (1.0 - 1.0 / nd) / (nd * alpha + 1.0);
      const double se = std::sqrt(var / m);
      for (size_t i = 0; i < n; ++i) {
        INFO("component " << i);
        CHECK(std::abs(sum[i] / m - 1.0 / nd) < 5 * se);
      }
    }
  }
}

TEST_CASE("a tiny alpha concentrates a Dirichlet draw on one component, a large one spreads it",
          "[math]") {
  // E sum_i p_i^2 = (alpha + 1) / (n alpha + 1) for symmetric Dir(alpha) over n components:
  // about 1 (one component takes everything) as alpha -> 0, about 1/n as alpha grows.
  // sum_i p_i^2 lies in [1/n, 1], so its variance is at most (1 - 1/n)^2 / 4 (Popoviciu) and
  // the mean of m draws is within 5 (1 - 1/n) / (2 sqrt(m)) of the expectation.
  const size_t n = 10;
  const int m = 20000;
  const double tolerance = 5 * (1 - 1.0 / n) / (2 * std::sqrt(double{m}));
  for (double alpha : {1e-3, 0.01, 1.0, 100.0}) {
    INFO("alpha " << alpha);
    rng r{stream_key(23, static_cast<uint64_t>(alpha * 1000))};
    double sum_sq = 0;
    for (int k = 0; k < m; ++k) {
      const auto p = dirichlet_draw(r, alpha, n);
      for (double x : p) sum_sq += x * x;
    }
    const double expected = (alpha + 1) / (static_cast<double>(n) * alpha + 1);
    INFO("mean sum of squares " << sum_sq / m << ", expected " << expected);
    CHECK(std::abs(sum_sq / m - expected) < tolerance);
  }
}

TEST_CASE("Dir(1) is uniform on the simplex: one component above 1/2 with probability n/2^(n-1)",
          "[math]") {
  // Under Dir(1, ..., 1), P(p_i > t) = (1 - t)^(n-1), and at most one component exceeds 1/2,
  // so P(max > 1/2) = n (1/2)^(n-1) exactly: 10/512 for n = 10. Binomial standard error.
  const size_t n = 10;
  const int m = 20000;
  const double q = 10.0 / 512.0;
  rng r{stream_key(29, 1)};
  int above = 0;
  for (int k = 0; k < m; ++k) {
    const auto p = dirichlet_draw(r, 1.0, n);
    above += *std::max_element(p.begin(), p.end()) > 0.5;
  }
  CHECK(std::abs(above / double{m} - q) < 5 * std::sqrt(q * (1 - q) / m));
}

TEST_CASE("gamma and Dirichlet draws reject a shape that is not positive", "[math]") {
  rng r{1};
  for (double bad : {0.0, -0.5, std::numeric_limits<double>::quiet_NaN()}) {
    INFO("shape " << bad);
    CHECK_THROWS_MATCHES(log_gamma_draw(r, bad), std::invalid_argument,
                         Catch::Message("gamma shape must be > 0"));
    CHECK_THROWS_AS(gamma_draw(r, bad), std::invalid_argument);
    CHECK_THROWS_AS(dirichlet_draw(r, bad, 3), std::invalid_argument);
    CHECK_THROWS_AS(dirichlet_draw(r, bad, 0), std::invalid_argument);
  }
  // Positive but so small that log(U)/alpha overflows: the draw would be NaN.
  CHECK_THROWS_MATCHES(dirichlet_draw(r, 1e-310, 3), std::invalid_argument,
                       Catch::Message("Dirichlet alpha must be >= 1e-6, got 0.000000"));
  CHECK(dirichlet_draw(r, min_dirichlet_alpha, 3).size() == 3);
}

TEST_CASE("proportional counts round by largest remainder, ties to the lower index", "[math]") {
  // 4 x {0.375, 0.375, 0.25} = {1.5, 1.5, 1}: floors {1, 1, 1}, the one left over goes to the
  // first of the two equal remainders.
  CHECK(proportional_counts({0.375, 0.375, 0.25}, 4) == std::vector<size_t>{2, 1, 1});
  // 10 x {0.125, 0.625, 0.25} = {1.25, 6.25, 2.5}: floors {1, 6, 2}, one left, largest
  // remainder 0.5 at index 2.
  CHECK(proportional_counts({0.125, 0.625, 0.25}, 10) == std::vector<size_t>{1, 6, 3});
  // 2 x {1/4, 1/4, 1/4, 1/4}: floors 0, two left for the first two.
  CHECK(proportional_counts({0.25, 0.25, 0.25, 0.25}, 2) == std::vector<size_t>{1, 1, 0, 0});
  CHECK(proportional_counts({1.0}, 17) == std::vector<size_t>{17});
  CHECK(proportional_counts({0.0, 1.0, 0.0}, 3) == std::vector<size_t>{0, 3, 0});
  CHECK(proportional_counts({0.5, 0.5}, 0) == std::vector<size_t>{0, 0});
}

TEST_CASE("proportional counts sum to the total even when p does not sum to exactly 1", "[math]") {
  // Above 1: the running floors are capped by what is left ({6, min(6, 4)}).
  CHECK(proportional_counts({0.6, 0.6}, 10) == std::vector<size_t>{6, 4});
  // Below 1: floors {0, 0}, the 5 left over go round by remainder (equal: lower index first).
  CHECK(proportional_counts({0.1, 0.1}, 5) == std::vector<size_t>{3, 2});
}

TEST_CASE("proportional counts of no components split only a zero total", "[math]") {
  CHECK(proportional_counts({}, 0).empty());
  CHECK_THROWS_MATCHES(proportional_counts({}, 3), std::invalid_argument,
                       Catch::Message("no components to split 3"));
}
