#include "runtime/math/krum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace fedactor {

size_t krum_neighbours(size_t n, size_t f) {
  if (n <= 1) return 0;
  const size_t q = n > f + 2 ? n - f - 2 : 1;
  return std::min(std::max<size_t>(q, 1), n - 1);
}

std::vector<double> krum_scores(const std::vector<const float*>& xs, size_t dim, size_t f) {
  const size_t n = xs.size();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> dist(n * n, 0.0);
  for (size_t a = 0; a < n; ++a)
    for (size_t b = a + 1; b < n; ++b) {
      double d = 0;
      for (size_t i = 0; i < dim; ++i) {
        const double e = static_cast<double>(xs[a][i]) - static_cast<double>(xs[b][i]);
        d += e * e;
      }
      if (std::isnan(d)) d = inf;
      dist[a * n + b] = dist[b * n + a] = d;
    }
  const size_t q = krum_neighbours(n, f);
  std::vector<double> scores(n, 0.0), others;
  for (size_t a = 0; a < n; ++a) {
    others.clear();
    for (size_t b = 0; b < n; ++b)
      if (b != a) others.push_back(dist[a * n + b]);
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(q),
                      others.end());
    double s = 0;
    for (size_t j = 0; j < q; ++j) s += others[j];
    scores[a] = s;
  }
  return scores;
}

std::vector<size_t> krum_select(const std::vector<const float*>& xs, size_t dim, size_t f,
                                size_t m) {
  const auto scores = krum_scores(xs, dim, f);
  std::vector<size_t> order(xs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  order.resize(std::min(m, order.size()));
  return order;
}

void multi_krum(const std::vector<const float*>& xs, size_t dim, size_t f, size_t m, float* out) {
  if (xs.empty()) return;
  const auto picked = krum_select(xs, dim, f, std::max<size_t>(m, 1));
  for (size_t i = 0; i < dim; ++i) {
    double sum = 0;
    for (auto j : picked) sum += static_cast<double>(xs[j][i]);
    out[i] = static_cast<float>(sum / static_cast<double>(picked.size()));
  }
}

}  // namespace fedactor
