// Tests of runtime/privacy/rdp_accountant.*: RDP of the sampled Gaussian mechanism and its
// conversion to (ε, δ), against the values published in TensorFlow Privacy's tests:
//   github.com/tensorflow/privacy at commit ee35642b90e65a38f9d393aa8146380f1c35780d (the last
//   before its RDP code moved to google/differential-privacy's dp_accounting),
//   tensorflow_privacy/privacy/analysis/rdp_accountant_test.py and
//   tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py.
// Each case names the Python test it takes its numbers from, with that test's tolerance
// unless stated.

#include "runtime/privacy/rdp_accountant.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"

using namespace fedactor;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::vector<double> range_orders(int lo, int hi_exclusive) {
  std::vector<double> o;
  for (int a = lo; a < hi_exclusive; ++a) o.push_back(a);
  return o;
}

// TF Privacy's compute_dp_sgd_privacy: q = batch / n, steps = ceil(epochs·n / batch), the
// default orders, ε for δ.
privacy_spent dp_sgd(double n, double batch, double sigma, double epochs, double delta) {
  const auto steps = static_cast<uint64_t>(std::ceil(epochs * n / batch));
  const auto& orders = default_rdp_orders();
  return epsilon_for_delta(orders, sgm_rdp(batch / n, sigma, steps, orders), delta);
}

}  // namespace

TEST_CASE("sgm_rdp without sampling or data: test_compute_rdp_no_sampling and _no_data",
          "[privacy]") {
  // q = 1: RDP = α/(2σ²) = 20/200; q = 0: nothing is released.
  CHECK(sgm_rdp(1, 10, 20) == 0.1);
  CHECK(sgm_rdp(0, 10, 20) == 0);
  CHECK(sgm_rdp(0.5, 0, 2) == inf);
  CHECK(sgm_rdp(0.5, 1, inf) == inf);
}

TEST_CASE("sgm_rdp at an integer order: test_compute_rdp_scalar", "[privacy]") {
  // compute_rdp(0.1, 2, 10, 5) = 0.07737 (assertAlmostEqual places=5).
  CHECK(sgm_rdp(0.1, 2, 10, {5})[0] == Approx(0.07737).margin(5e-6));
}

TEST_CASE("sgm_rdp over fractional, integer and infinite orders: test_compute_rdp_sequence",
          "[privacy]") {
  // compute_rdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, inf]) (assertAllClose rtol=1e-4).
  const auto rdp = sgm_rdp(0.01, 2.5, 50, {1.5, 2.5, 5, 50, 100, inf});
  const std::vector<double> published = {6.5007e-04, 1.0854e-03, 2.1808e-03, 2.3846e-02,
                                         1.6742e+02};
  for (size_t i = 0; i < published.size(); ++i) {
    INFO("order index " << i);
    CHECK(rdp[i] == Approx(published[i]).epsilon(1e-4));
  }
  CHECK(rdp[5] == inf);
}

TEST_CASE("epsilon_for_delta on constant RDP: test_get_privacy_spent_check_target_delta",
          "[privacy]") {
  // Orders 2..32 with RDP 1.1 each (pure DP): the largest order wins, ε = 1.32783806176
  // (assertAlmostEqual: 7 places).
  const auto orders = range_orders(2, 33);
  const std::vector<double> rdp(orders.size(), 1.1);
  const auto s = epsilon_for_delta(orders, rdp, 1e-5);
  CHECK(s.order == 32);
  CHECK(s.epsilon == Approx(1.32783806176).margin(5e-8));
  // And back: test_get_privacy_spent_check_target_eps, δ = 1e-5 at ε = 1.32783806176.
  const auto d = delta_for_epsilon(orders, rdp, 1.32783806176);
  CHECK(d.order == 32);
  CHECK(d.delta == Approx(1e-5).margin(5e-8));
}

TEST_CASE(
    "epsilon_for_delta of the plain Gaussian at (1, 1e-6): test_get_privacy_spent_check_"
    "target_delta and _eps",
    "[privacy]") {
  // σ = 4.530877117 gives exactly (1, 1e-6)-DP without sampling; orders 1.000 .. 99.999 in
  // steps of 0.001 (assertAlmostEqual: 7 places).
  std::vector<double> orders;
  for (int i = 1000; i < 100000; ++i) orders.push_back(0.001 * i);
  const auto rdp = sgm_rdp(1, 4.530877117, 1, orders);
  CHECK(epsilon_for_delta(orders, rdp, 1e-6).epsilon == Approx(1).margin(5e-8));
  CHECK(delta_for_epsilon(orders, rdp, 1).delta == Approx(1e-6).margin(5e-8));
}

TEST_CASE("epsilon_for_delta of two composed mechanisms: test_check_composition", "[privacy]") {
  // 40000 steps of (q 1e-4, σ 0.4) then 100 of (q 0.1, σ 2): ε at δ = 1e-5 at most 8.509656
  // (the published value of the older conversion, still an upper bound for this one).
  const std::vector<double> orders = {1.25, 1.5, 1.75, 2.,  2.5, 3.,  4.,  5.,  6.,  7.,  8.,
                                      10.,  12., 14.,  16., 20., 24., 28., 32., 64., 256.};
  auto rdp = sgm_rdp(1e-4, 0.4, 40000, orders);
  const auto second = sgm_rdp(0.1, 2, 100, orders);
  for (size_t i = 0; i < rdp.size(); ++i) rdp[i] += second[i];
  const double eps = epsilon_for_delta(orders, rdp, 1e-5).epsilon;
  CHECK(eps <= 8.509656);
  CHECK(eps > 5);  // and not vacuous: the published older bound is within 3.5 of it
}

TEST_CASE(
    "DP-SGD epsilon at the default orders: compute_dp_sgd_privacy_test "
    "test_compute_dp_sgd_privacy Test0 to Test2",
    "[privacy]") {
  // (n, batch, σ, epochs, δ) -> ε and the optimal order. The Python test asserts 7 decimal
  // places; these are computed with other erfc / lgamma implementations, so ε is required to
  // 1e-9 relative (Test2's ε is 5.9 million).
  auto t0 = dp_sgd(60000, 150, 1.3, 15, 1e-5);
  CHECK(t0.epsilon == Approx(0.7242234026109595).epsilon(1e-9));
  CHECK(t0.order == 19.0);
  auto t1 = dp_sgd(100000, 100, 1.0, 30, 1e-7);
  CHECK(t1.epsilon == Approx(1.4154988495444845).epsilon(1e-9));
  CHECK(t1.order == 13.0);
  auto t2 = dp_sgd(100000000, 1024, 0.1, 10, 1e-7);
  CHECK(t2.epsilon == Approx(5907982.31138195).epsilon(1e-9));
  CHECK(t2.order == 1.25);
}

TEST_CASE(
    "epsilon_for_delta and delta_for_epsilon invert each other: "
    "test_get_privacy_spent_consistency",
    "[privacy]") {
  const auto orders = range_orders(2, 50);
  for (double q : {0.01, 0.1, 0.8, 1.0}) {
    for (double sigma : {0.1, 1.0, 3.0, 10.0, 100.0}) {
      const auto rdp = sgm_rdp(q, sigma, 1, orders);
      for (double delta : {.9, .5, .1, .01, 1e-3, 1e-4, 1e-5, 1e-6, 1e-9, 1e-12}) {
        INFO("q " << q << " sigma " << sigma << " delta " << delta);
        const auto e = epsilon_for_delta(orders, rdp, delta);
        const auto d = delta_for_epsilon(orders, rdp, e.epsilon);
        if (e.epsilon != 0) {
          CHECK(d.order == e.order);
          CHECK(d.delta == Approx(delta).margin(5e-8));
        } else {
          CHECK(d.delta <= delta);
        }
      }
    }
  }
}

TEST_CASE("rdp_accountant composes rounds by addition and keeps its totals through bytes",
          "[privacy]") {
  rdp_accountant acc;
  REQUIRE(acc.orders() == default_rdp_orders());
  REQUIRE(acc.orders().size() == 72);
  CHECK(acc.spent(1e-5).epsilon == 0);
  // 1000 rounds of Test1's rate one at a time equal 1000 steps at once.
  for (int i = 0; i < 1000; ++i) acc.add_steps(0.001, 1.0);
  const auto at_once = sgm_rdp(0.001, 1.0, 1000, default_rdp_orders());
  for (size_t i = 0; i < at_once.size(); ++i) CHECK(acc.rdp()[i] == Approx(at_once[i]));
  acc.add_steps(0.05, 1.0, 3);  // another rate
  rdp_accountant back;
  back.load(acc.save().data(), acc.save().size(), "test");
  CHECK(back.rdp() == acc.rdp());
  CHECK(back.spent(1e-5).epsilon == acc.spent(1e-5).epsilon);

  auto bytes = acc.save();
  bytes.push_back(0);
  CHECK_THROWS_AS(back.load(bytes.data(), bytes.size(), "test"), checkpoint_error);
  bytes.resize(bytes.size() - 9);
  CHECK_THROWS_WITH(back.load(bytes.data(), bytes.size(), "ckpt"),
                    Catch::Contains("ckpt") && Catch::Contains("truncated"));
  CHECK(back.rdp() == acc.rdp());  // unchanged by a failed load
}

TEST_CASE("sgm_rdp refuses values outside its domain", "[privacy]") {
  CHECK_THROWS_AS(sgm_rdp(1.5, 1, 2), std::invalid_argument);
  CHECK_THROWS_AS(sgm_rdp(-0.1, 1, 2), std::invalid_argument);
  CHECK_THROWS_AS(sgm_rdp(0.1, -1, 2), std::invalid_argument);
  CHECK_THROWS_AS(sgm_rdp(0.1, 1, 1), std::invalid_argument);  // order 1 with 0 < q < 1
  CHECK_THROWS_AS(sgm_rdp(0.1, 1, 0.5), std::invalid_argument);
  CHECK(sgm_rdp(1, 2, 1) == 0.125);
  CHECK_THROWS_AS(epsilon_for_delta({2}, {0.1}, 0), std::invalid_argument);
  CHECK_THROWS_AS(epsilon_for_delta({2, 3}, {0.1}, 1e-5), std::invalid_argument);
}
