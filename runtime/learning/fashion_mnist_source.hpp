#pragma once

// data.kind fashion_mnist: the training split divided over the clients by data.partition
// (partition.hpp), the test split for evaluation. The pixel bytes and the partition are
// loaded and computed once per process and shared by every source built with the same
// data.path (and, for the partition, the same clients, partition settings and seed); a
// client's float dataset is built on demand from its index list.

#include <memory>

#include "runtime/learning/data_source.hpp"
#include "runtime/learning/fashion_mnist.hpp"
#include "runtime/learning/partition.hpp"

namespace fedactor {

class fashion_mnist_source : public data_source {
 public:
  // Reads the training split (or reuses it) and partitions it. Throws std::runtime_error
  // naming the file on missing or corrupt data, or the partition problem.
  fashion_mnist_source(const data_config& cfg, uint64_t clients, uint64_t seed);

  uint32_t num_samples(uint64_t client) const override;
  client_dataset make(uint64_t client) const override;
  uint32_t features() const override { return fmnist_side * fmnist_side; }
  uint32_t classes() const override { return fashion_mnist_classes; }
  std::vector<int64_t> input_shape() const override { return {1, fmnist_side, fmnist_side}; }
  // The 10,000 t10k samples (read on first use, then shared).
  std::optional<client_dataset> test_set() const override;

  const partition& split() const { return *partition_; }
  const image_set& train() const { return *train_; }

 private:
  data_config cfg_;
  std::shared_ptr<const image_set> train_;
  std::shared_ptr<const partition> partition_;
};

// The split of a data directory, shared per process (loaded on first use).
std::shared_ptr<const image_set> shared_fashion_mnist(const std::string& dir, fmnist_split split);

}  // namespace fedactor
