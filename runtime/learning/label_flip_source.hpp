#pragma once

// The label-flipping attack (attack.kind label_flip, docs/robustness.md): a data_source over
// another whose malicious clients (runtime/protocol/attack.hpp is_malicious) train on labels
// classes − 1 − y. Sizes, features and the test split are the inner source's.

#include <memory>

#include "runtime/learning/data_source.hpp"

namespace fedactor {

class label_flip_source : public data_source {
 public:
  label_flip_source(std::shared_ptr<const data_source> inner, attack_config attack);

  uint32_t num_samples(uint64_t client) const override { return inner_->num_samples(client); }
  client_dataset make(uint64_t client) const override;
  uint32_t features() const override { return inner_->features(); }
  uint32_t classes() const override { return inner_->classes(); }
  std::vector<int64_t> input_shape() const override { return inner_->input_shape(); }
  std::optional<client_dataset> test_set() const override { return inner_->test_set(); }

 private:
  std::shared_ptr<const data_source> inner_;
  attack_config attack_;
};

}  // namespace fedactor
