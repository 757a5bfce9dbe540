// Process-wide caches of Fashion-MNIST splits and partitions, and the data_source on them.

#include "runtime/learning/fashion_mnist_source.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <tuple>

namespace fedactor {

namespace {

std::mutex cache_mutex;

// Entries are weak: data lives as long as some source uses it.
std::map<std::pair<std::string, int>, std::weak_ptr<const image_set>>& split_cache() {
  static std::map<std::pair<std::string, int>, std::weak_ptr<const image_set>> cache;
  return cache;
}

using partition_key = std::tuple<std::string, uint64_t, int, double, uint32_t, uint64_t>;

std::map<partition_key, std::weak_ptr<const partition>>& partition_cache() {
  static std::map<partition_key, std::weak_ptr<const partition>> cache;
  return cache;
}

}  // namespace

std::shared_ptr<const image_set> shared_fashion_mnist(const std::string& dir, fmnist_split split) {
  std::lock_guard<std::mutex> lock{cache_mutex};
  auto& slot = split_cache()[{dir, static_cast<int>(split)}];
  if (auto hit = slot.lock()) return hit;
  auto set = std::make_shared<const image_set>(load_fashion_mnist(dir, split));
  if (set->rows != fmnist_side || set->cols != fmnist_side)
    throw std::runtime_error((std::filesystem::path{dir} / fmnist_images_file(split)).string() +
                             ": images are " + std::to_string(set->rows) + "x" +
                             std::to_string(set->cols) + ", expected 28x28");
  slot = set;
  return set;
}

fashion_mnist_source::fashion_mnist_source(const data_config& cfg, uint64_t clients, uint64_t seed)
    : cfg_(cfg), train_(shared_fashion_mnist(cfg.path, fmnist_split::train)) {
  partition_config pc{cfg.partition, cfg.alpha, cfg.labels_per_client};
  partition_key key{cfg.path, clients, static_cast<int>(pc.kind), pc.alpha, pc.labels_per_client,
                    seed};
  std::lock_guard<std::mutex> lock{cache_mutex};
  auto& slot = partition_cache()[key];
  partition_ = slot.lock();
  if (!partition_) {
    try {
      partition_ = std::make_shared<const partition>(
          make_partition(train_->labels, fashion_mnist_classes, clients, pc, seed));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("data.partition ") + to_string(pc.kind) + ": " +
                               e.what());
    }
    slot = partition_;
  }
}

uint32_t fashion_mnist_source::num_samples(uint64_t client) const {
  if (client >= partition_->clients()) return 0;
  return partition_->size(client);
}

client_dataset fashion_mnist_source::make(uint64_t client) const {
  if (client >= partition_->clients())
    throw std::out_of_range("client " + std::to_string(client) + " is outside the partition (" +
                            std::to_string(partition_->clients()) + " clients)");
  return make_image_dataset(*train_, partition_->indices(client), partition_->size(client));
}

std::optional<client_dataset> fashion_mnist_source::test_set() const {
  auto test = shared_fashion_mnist(cfg_.path, fmnist_split::test);
  std::vector<uint32_t> all(test->count);
  std::iota(all.begin(), all.end(), 0u);
  return make_image_dataset(*test, all.data(), all.size());
}

}  // namespace fedactor
