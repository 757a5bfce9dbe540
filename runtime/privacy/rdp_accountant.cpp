#include "runtime/privacy/rdp_accountant.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "runtime/checkpoint/byte_codec.hpp"

namespace fedactor {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// log(e^x + e^y).
double log_add(double x, double y) {
  const double lo = std::min(x, y), hi = std::max(x, y);
  if (lo == -inf) return hi;
  return std::log1p(std::exp(lo - hi)) + hi;
}

// log(e^x − e^y), x >= y.
double log_sub(double x, double y) {
  if (y == -inf) return x;
  if (x <= y) return -inf;  // x == y (x < y only from rounding: the difference is 0)
  const double d = x - y;
  if (d > 700) return x;  // e^y is below x's precision
  return std::log(std::expm1(d)) + y;
}

// log(erfc(x)), accurate in the far tail where erfc underflows (its asymptotic series).
double log_erfc(double x) {
  const double r = std::erfc(x);
  if (r > 1e-300) return std::log(r);
  const double x2 = x * x;
  return -0.5 * std::log(M_PI) - std::log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) -
         37.0 / 24.0 / (x2 * x2 * x2) + 353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

double log_comb(double n, double k) {
  return std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1);
}

// log(A_α) for integer α >= 2, 0 < q < 1 (Mironov et al. 2019, Section 3.3): the binomial
// expansion Σ_i C(α, i) q^i (1 − q)^(α−i) exp((i² − i)/(2σ²)).
double log_a_int(double q, double sigma, uint64_t alpha) {
  double log_a = -inf;
  const double a = static_cast<double>(alpha);
  for (uint64_t i = 0; i <= alpha; ++i) {
    const double di = static_cast<double>(i);
    const double log_coef = log_comb(a, di) + di * std::log(q) + (a - di) * std::log1p(-q);
    log_a = log_add(log_a, log_coef + (di * di - di) / (2 * sigma * sigma));
  }
  return log_a;
}

// log(A_α) for fractional α > 1, 0 < q < 1 (Mironov et al. 2019, Section 3.4): the integral
// split at z0 into two series of generalised binomial terms with erfc tails, summed until
// both terms fall below e^-30.
double log_a_frac(double q, double sigma, double alpha) {
  double log_a0 = -inf, log_a1 = -inf;
  const double z0 = sigma * sigma * std::log(1 / q - 1) + 0.5;
  const double log_q = std::log(q), log_1q = std::log1p(-q);
  // C(α, i) as sign and log-magnitude, by the recurrence C(α, i+1) = C(α, i)·(α − i)/(i + 1).
  double log_coef = 0;
  bool positive = true;
  for (uint64_t n = 0;; ++n) {
    const double i = static_cast<double>(n);
    const double j = alpha - i;
    const double log_t0 = log_coef + i * log_q + j * log_1q;
    const double log_t1 = log_coef + j * log_q + i * log_1q;
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / (M_SQRT2 * sigma));
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / (M_SQRT2 * sigma));
    const double log_s0 = log_t0 + (i * i - i) / (2 * sigma * sigma) + log_e0;
    const double log_s1 = log_t1 + (j * j - j) / (2 * sigma * sigma) + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      log_a0 = log_sub(log_a0, log_s0);
      log_a1 = log_sub(log_a1, log_s1);
    }
    if (std::max(log_s0, log_s1) < -30) break;
    if (n > 1000000) throw std::invalid_argument("sgm_rdp: the fractional-order series diverges");
    const double factor = (alpha - i) / (i + 1);
    if (factor < 0) positive = !positive;
    log_coef += std::log(std::fabs(factor));
  }
  return log_add(log_a0, log_a1);
}

}  // namespace

const std::vector<double>& default_rdp_orders() {
  static const std::vector<double> orders = [] {
    std::vector<double> o = {1.25, 1.5, 1.75, 2., 2.25, 2.5, 3., 3.5, 4., 4.5};
    for (int a = 5; a < 64; ++a) o.push_back(a);
    o.push_back(128);
    o.push_back(256);
    o.push_back(512);
    return o;
  }();
  return orders;
}

double sgm_rdp(double q, double sigma, double alpha) {
  if (!(q >= 0 && q <= 1)) throw std::invalid_argument("sgm_rdp: q must be in [0, 1]");
  if (!(sigma >= 0) || std::isinf(sigma))
    throw std::invalid_argument("sgm_rdp: sigma must be finite and >= 0");
  if (!(alpha >= 1)) throw std::invalid_argument("sgm_rdp: the order must be >= 1");
  if (q == 0) return 0;
  if (sigma == 0 || std::isinf(alpha)) return inf;
  if (q == 1) return alpha / (2 * sigma * sigma);
  if (alpha == 1)  // the limit (a KL divergence) has no closed form here
    throw std::invalid_argument("sgm_rdp: order 1 needs q = 0 or q = 1");
  const double log_a = std::floor(alpha) == alpha && alpha <= 1e6
                           ? log_a_int(q, sigma, static_cast<uint64_t>(alpha))
                           : log_a_frac(q, sigma, alpha);
  return log_a / (alpha - 1);
}

std::vector<double> sgm_rdp(double q, double sigma, uint64_t steps,
                            const std::vector<double>& orders) {
  std::vector<double> out;
  out.reserve(orders.size());
  for (double a : orders) out.push_back(sgm_rdp(q, sigma, a) * static_cast<double>(steps));
  return out;
}

namespace {

void check_curve(const std::vector<double>& orders, const std::vector<double>& rdp) {
  if (orders.size() != rdp.size() || orders.empty())
    throw std::invalid_argument("privacy_spent: orders and RDP values must pair up");
  for (size_t i = 0; i < orders.size(); ++i) {
    if (!(orders[i] >= 1)) throw std::invalid_argument("privacy_spent: an order below 1");
    if (!(rdp[i] >= 0)) throw std::invalid_argument("privacy_spent: a negative RDP value");
  }
}

}  // namespace

privacy_spent epsilon_for_delta(const std::vector<double>& orders, const std::vector<double>& rdp,
                                double delta) {
  check_curve(orders, rdp);
  if (!(delta > 0)) throw std::invalid_argument("privacy_spent: delta must be > 0");
  privacy_spent best{inf, delta, orders[0]};
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i], r = rdp[i];
    double eps = inf;
    if (delta * delta + std::expm1(-r) >= 0)
      eps = 0;          // the KL bound δ <= sqrt(1 − e^-rdp) already holds
    else if (a > 1.01)  // the bound is unstable as α -> 1 (and useless there)
      eps = r + std::log1p(-1 / a) - std::log(delta * a) / (a - 1);
    if (eps < best.epsilon) best = {eps, delta, a};
  }
  best.epsilon = std::max(0.0, best.epsilon);
  return best;
}

privacy_spent delta_for_epsilon(const std::vector<double>& orders, const std::vector<double>& rdp,
                                double epsilon) {
  check_curve(orders, rdp);
  if (!(epsilon >= 0)) throw std::invalid_argument("privacy_spent: epsilon must be >= 0");
  double best_log = inf, best_order = orders[0];
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i], r = rdp[i];
    double log_delta = 0.5 * std::log1p(-std::exp(-r));  // the KL bound
    if (a > 1.01)
      log_delta = std::min(log_delta, (a - 1) * (r - epsilon + std::log1p(-1 / a)) - std::log(a));
    if (log_delta < best_log) best_log = log_delta, best_order = a;
  }
  return {epsilon, std::min(std::exp(best_log), 1.0), best_order};
}

rdp_accountant::rdp_accountant() : orders_(default_rdp_orders()), rdp_(orders_.size(), 0.0) {}

void rdp_accountant::add_steps(double q, double sigma, uint64_t steps) {
  if (q != cached_q_ || sigma != cached_sigma_) {
    cached_ = sgm_rdp(q, sigma, 1, orders_);
    cached_q_ = q;
    cached_sigma_ = sigma;
  }
  for (size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += cached_[i] * static_cast<double>(steps);
}

std::vector<char> rdp_accountant::save() const {
  byte_writer w;
  w.put_u64(rdp_.size());
  for (double r : rdp_) w.put_f64(r);
  return w.take();
}

void rdp_accountant::load(const char* data, size_t size, const std::string& what) {
  byte_reader r(data, size, what);
  const uint64_t n = r.get_u64("RDP order count");
  if (n != orders_.size())
    r.fail("RDP totals at " + std::to_string(n) + " orders, the accountant has " +
           std::to_string(orders_.size()));
  std::vector<double> totals(orders_.size());
  for (auto& t : totals) {
    t = r.get_f64("RDP total");
    if (!(t >= 0)) r.fail("a negative or NaN RDP total");
  }
  r.finish();
  rdp_ = std::move(totals);
}

}  // namespace fedactor
