// Marsaglia–Tsang Gamma sampling, Dirichlet draws and largest-remainder rounding.

#include "runtime/math/dirichlet.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fedactor {

namespace {

// Marsaglia & Tsang (2000), shape >= 1: returns log of the draw.
double log_gamma_at_least_one(rng& r, double shape) {
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = r.normal();
    double v = 1.0 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = r.uniform();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return std::log(d * v);
    if (u > 0 && std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return std::log(d * v);
  }
}

}  // namespace

double log_gamma_draw(rng& r, double shape) {
  if (!(shape > 0)) throw std::invalid_argument("gamma shape must be > 0");
  if (shape >= 1) return log_gamma_at_least_one(r, shape);
  const double g = log_gamma_at_least_one(r, shape + 1.0);
  double u = r.uniform();
  if (u < 0x1.0p-60) u = 0x1.0p-60;
  return g + std::log(u) / shape;
}

double gamma_draw(rng& r, double shape) {
  return std::exp(log_gamma_draw(r, shape));
}

std::vector<double> dirichlet_draw(rng& r, double alpha, size_t n) {
  // Below this, log(U)/alpha in log_gamma_draw can overflow to -inf for every component and
  // the draw would be NaN (Dir(1e-6) is already one-hot in practice).
  if (!(alpha >= min_dirichlet_alpha))
    throw std::invalid_argument("Dirichlet alpha must be >= 1e-6, got " + std::to_string(alpha));
  if (n == 0) return {};
  std::vector<double> logs(n);
  for (auto& l : logs) l = log_gamma_draw(r, alpha);
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (auto& l : logs) sum += (l = std::exp(l - top));
  for (auto& l : logs) l /= sum;
  return logs;
}

std::vector<size_t> proportional_counts(const std::vector<double>& p, size_t total) {
  const size_t n = p.size();
  if (n == 0) {
    if (total != 0) throw std::invalid_argument("no components to split " + std::to_string(total));
    return {};
  }
  std::vector<size_t> counts(n);
  std::vector<double> rest(n);
  size_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    const double exact = p[i] * static_cast<double>(total);
    counts[i] = std::min(total - given, static_cast<size_t>(std::floor(exact)));
    rest[i] = exact - static_cast<double>(counts[i]);
    given += counts[i];
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t missing = total - given;
  std::partial_sort(
      order.begin(), order.begin() + std::min(missing, n), order.end(),
      [&](size_t a, size_t b) { return rest[a] > rest[b] || (rest[a] == rest[b] && a < b); });
  for (size_t k = 0; k < missing; ++k) ++counts[order[k % n]];
  return counts;
}

}  // namespace fedactor
