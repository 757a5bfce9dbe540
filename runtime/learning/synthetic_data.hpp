#pragma once

// Synthetic client data.
// - tutorial_random: the tutorial's data (features ~ N(0,1), labels uniform at random,
//   50–200 samples per client). Nothing to learn: loss stays near ln(classes).
// - teacher: features ~ N(0,1), labels = argmax of a fixed random teacher network
//   (features → tanh hidden → classes, drawn from the scenario seed), optionally with
//   label noise. Learnable: a student MLP's loss falls round after round. Its test split
//   is fresh samples from the same teacher.

#include <vector>

#include "runtime/learning/data_source.hpp"

namespace fedactor {

class tutorial_random_source : public data_source {
 public:
  tutorial_random_source(const data_config& cfg, uint64_t seed) : cfg_(cfg), seed_(seed) {}
  uint32_t num_samples(uint64_t client) const override;
  client_dataset make(uint64_t client) const override;
  uint32_t features() const override { return cfg_.features; }
  uint32_t classes() const override { return cfg_.classes; }

 private:
  data_config cfg_;
  uint64_t seed_;
};

constexpr uint32_t teacher_test_samples = 2000;

class teacher_source : public data_source {
 public:
  teacher_source(const data_config& cfg, uint64_t seed);
  uint32_t num_samples(uint64_t client) const override;
  client_dataset make(uint64_t client) const override;
  uint32_t features() const override { return cfg_.features; }
  uint32_t classes() const override { return cfg_.classes; }
  // teacher_test_samples samples labelled by the teacher without noise, from a stream of
  // their own (no client's data).
  std::optional<client_dataset> test_set() const override;

  // The teacher's label for one feature row.
  int64_t label(const float* row) const;

 private:
  data_config cfg_;
  uint64_t seed_;
  std::vector<float> w1_;  // teacher_hidden × features
  std::vector<float> b1_;  // teacher_hidden
  std::vector<float> w2_;  // classes × teacher_hidden
};

}  // namespace fedactor
