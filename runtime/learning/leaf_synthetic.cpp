// The LEAF / FedProx synthetic(alpha, beta) generator, one client at a time.

#include "runtime/learning/leaf_synthetic.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr uint64_t tag_leaf_size = 0x6c65616673;  // "leafs"
constexpr uint64_t tag_leaf_data = 0x6c65616664;  // "leafd"

}  // namespace

uint32_t leaf_synthetic_source::num_samples(uint64_t client) const {
  rng r{stream_key(seed_, tag_leaf_size, client)};
  const double tail = std::exp(4.0 + 2.0 * r.normal());
  return static_cast<uint32_t>(
      std::min<double>(leaf_min_samples + std::floor(tail), leaf_max_samples));
}

client_dataset leaf_synthetic_source::make(uint64_t client) const {
  const uint32_t n = num_samples(client);
  constexpr uint32_t dim = leaf_dimension;
  constexpr uint32_t classes = leaf_classes;
  rng r{stream_key(seed_, tag_leaf_data, client)};
  const double u = alpha_ * r.normal();
  const double b_mean = beta_ * r.normal();
  double v[dim];
  double sd[dim];
  for (uint32_t j = 0; j < dim; ++j) {
    v[j] = b_mean + r.normal();
    sd[j] = std::pow(static_cast<double>(j + 1), -0.6);  // sqrt of (j+1)^-1.2
  }
  std::vector<double> w(static_cast<size_t>(dim) * classes);
  for (auto& x : w) x = u + r.normal();
  double bias[classes];
  for (auto& x : bias) x = u + r.normal();

  client_dataset d;
  d.features = dim;
  d.shape = {dim};
  d.x.resize(static_cast<size_t>(n) * dim);
  d.y.resize(n);
  for (uint32_t k = 0; k < n; ++k) {
    float* row = &d.x[static_cast<size_t>(k) * dim];
    for (uint32_t j = 0; j < dim; ++j) row[j] = static_cast<float>(v[j] + sd[j] * r.normal());
    int64_t best = 0;
    double best_score = -INFINITY;
    for (uint32_t c = 0; c < classes; ++c) {
      double score = bias[c];
      for (uint32_t j = 0; j < dim; ++j) score += w[static_cast<size_t>(j) * classes + c] * row[j];
      if (score > best_score) best_score = score, best = c;
    }
    d.y[k] = best;
  }
  return d;
}

}  // namespace fedactor
