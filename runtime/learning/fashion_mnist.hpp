#pragma once

// Fashion-MNIST from the IDX .gz files of Debian's dataset-fashion-mnist package
// (/usr/share/datasets/fashion-mnist: train-{images-idx3,labels-idx1}-ubyte.gz and
// t10k-…), kept as bytes; samples become floats only when a client's dataset is built,
// normalised the standard way: (x/255 − 0.2860) / 0.3530.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/learning/client_dataset.hpp"

namespace fedactor {

constexpr uint32_t fashion_mnist_classes = 10;
constexpr uint32_t fmnist_side = 28;  // images are 28×28, one channel
constexpr double fashion_mnist_mean = 0.2860;
constexpr double fashion_mnist_std = 0.3530;

// One split (train or test): count × rows × cols pixel bytes and count labels.
struct image_set {
  uint32_t count = 0;
  uint32_t rows = 0;
  uint32_t cols = 0;
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;  // each < fashion_mnist_classes
};

enum class fmnist_split { train, test };

// The file names of a split inside the data directory ("train-images-idx3-ubyte.gz", …).
std::string fmnist_images_file(fmnist_split split);
std::string fmnist_labels_file(fmnist_split split);

// Reads one split from `dir`. Throws std::runtime_error with one line naming the file and
// what was wrong (a missing file names the Debian package that provides it).
image_set load_fashion_mnist(const std::string& dir, fmnist_split split);

// Samples `indices` of `set`, normalised, shaped {1, rows, cols}, in the given order.
client_dataset make_image_dataset(const image_set& set, const uint32_t* indices, size_t n);

}  // namespace fedactor
