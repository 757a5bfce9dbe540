#include "runtime/learning/synthetic_data.hpp"

#include <cmath>

#include "runtime/learning/client_sizes.hpp"
#include "runtime/math/normal_fill.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

uint32_t tutorial_random_source::num_samples(uint64_t client) const {
  return synthetic_num_samples(cfg_, seed_, client);
}

client_dataset tutorial_random_source::make(uint64_t client) const {
  const uint32_t n = num_samples(client);
  client_dataset d;
  d.features = cfg_.features;
  d.x.resize(static_cast<size_t>(n) * cfg_.features);
  d.y.resize(n);
  // Features from the fast normal stream (normal_fill.hpp), labels from a second stream.
  fill_normal(stream_key(seed_, rng_tag::client_data, client), d.x.data(), d.x.size());
  rng r{stream_key(seed_, rng_tag::client_data, client, 1)};
  for (auto& v : d.y) v = static_cast<int64_t>(r.below(cfg_.classes));
  return d;
}

teacher_source::teacher_source(const data_config& cfg, uint64_t seed) : cfg_(cfg), seed_(seed) {
  rng r{stream_key(seed, rng_tag::teacher)};
  const uint32_t h = cfg.teacher_hidden;
  w1_.resize(static_cast<size_t>(h) * cfg.features);
  b1_.resize(h);
  w2_.resize(static_cast<size_t>(cfg.classes) * h);
  const double s1 = 2.0 / std::sqrt(static_cast<double>(cfg.features));
  const double s2 = 3.0 / std::sqrt(static_cast<double>(h));
  for (auto& v : w1_) v = static_cast<float>(r.normal() * s1);
  for (auto& v : b1_) v = static_cast<float>(r.normal() * 0.5);
  for (auto& v : w2_) v = static_cast<float>(r.normal() * s2);
}

uint32_t teacher_source::num_samples(uint64_t client) const {
  return synthetic_num_samples(cfg_, seed_, client);
}

int64_t teacher_source::label(const float* row) const {
  const uint32_t f = cfg_.features;
  const uint32_t h = cfg_.teacher_hidden;
  std::vector<double> hidden(h);
  for (uint32_t j = 0; j < h; ++j) {
    double acc = b1_[j];
    const float* w = &w1_[static_cast<size_t>(j) * f];
    for (uint32_t i = 0; i < f; ++i) acc += static_cast<double>(w[i]) * row[i];
    hidden[j] = std::tanh(acc);
  }
  int64_t best = 0;
  double best_score = -INFINITY;
  for (uint32_t c = 0; c < cfg_.classes; ++c) {
    double acc = 0;
    const float* w = &w2_[static_cast<size_t>(c) * h];
    for (uint32_t j = 0; j < h; ++j) acc += static_cast<double>(w[j]) * hidden[j];
    if (acc > best_score) {
      best_score = acc;
      best = c;
    }
  }
  return best;
}

std::optional<client_dataset> teacher_source::test_set() const {
  constexpr uint64_t tag_teacher_test = 0x7465737473;  // "tests"
  client_dataset d;
  d.features = cfg_.features;
  d.x.resize(static_cast<size_t>(teacher_test_samples) * cfg_.features);
  d.y.resize(teacher_test_samples);
  rng r{stream_key(seed_, tag_teacher_test)};
  for (auto& v : d.x) v = static_cast<float>(r.normal());
  for (uint32_t k = 0; k < teacher_test_samples; ++k)
    d.y[k] = label(&d.x[static_cast<size_t>(k) * cfg_.features]);
  return d;
}

client_dataset teacher_source::make(uint64_t client) const {
  const uint32_t n = num_samples(client);
  client_dataset d;
  d.features = cfg_.features;
  d.x.resize(static_cast<size_t>(n) * cfg_.features);
  d.y.resize(n);
  rng r{stream_key(seed_, rng_tag::client_data, client)};
  for (auto& v : d.x) v = static_cast<float>(r.normal());
  for (uint32_t k = 0; k < n; ++k) {
    d.y[k] = label(&d.x[static_cast<size_t>(k) * cfg_.features]);
    if (cfg_.label_noise > 0 && r.uniform() < cfg_.label_noise)
      d.y[k] = static_cast<int64_t>(r.below(cfg_.classes));
  }
  return d;
}

}  // namespace fedactor
