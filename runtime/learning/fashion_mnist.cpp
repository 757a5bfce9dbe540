// Fashion-MNIST loading and per-client dataset materialisation.

#include "runtime/learning/fashion_mnist.hpp"

#include <filesystem>
#include <stdexcept>

#include "runtime/learning/idx.hpp"

namespace fedactor {

std::string fmnist_images_file(fmnist_split split) {
  return split == fmnist_split::train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz";
}

std::string fmnist_labels_file(fmnist_split split) {
  return split == fmnist_split::train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz";
}

image_set load_fashion_mnist(const std::string& dir, fmnist_split split) {
  const std::string images_path = (std::filesystem::path(dir) / fmnist_images_file(split)).string();
  const std::string labels_path = (std::filesystem::path(dir) / fmnist_labels_file(split)).string();
  for (const auto& p : {images_path, labels_path}) {
    std::error_code ec;
    if (!std::filesystem::exists(p, ec))
      throw std::runtime_error(p +
                               ": no such file (install the Debian package dataset-fashion-mnist, "
                               "or point data.path at a directory holding the Fashion-MNIST "
                               "IDX .gz files)");
  }
  auto images = read_idx_gz(images_path, 3);
  auto labels = read_idx_gz(labels_path, 1);
  if (images.dims[1] == 0 || images.dims[2] == 0)
    throw std::runtime_error(images_path + ": images of size 0");
  if (labels.dims[0] != images.dims[0])
    throw std::runtime_error(labels_path + ": " + std::to_string(labels.dims[0]) + " labels for " +
                             std::to_string(images.dims[0]) + " images in " +
                             fmnist_images_file(split));
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= fashion_mnist_classes)
      throw std::runtime_error(labels_path + ": label " + std::to_string(labels.data[i]) +
                               " of sample " + std::to_string(i) + " is not in [0, 9]");
  }
  image_set out;
  out.count = images.dims[0];
  out.rows = images.dims[1];
  out.cols = images.dims[2];
  out.pixels = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

client_dataset make_image_dataset(const image_set& set, const uint32_t* indices, size_t n) {
  const size_t pixels = static_cast<size_t>(set.rows) * set.cols;
  client_dataset d;
  d.features = static_cast<uint32_t>(pixels);
  d.shape = {1, set.rows, set.cols};
  d.x.resize(n * pixels);
  d.y.resize(n);
  // (x/255 - mean)/std as one multiply-add per pixel, through a 256-entry table.
  float table[256];
  for (int v = 0; v < 256; ++v)
    table[v] = static_cast<float>((v / 255.0 - fashion_mnist_mean) / fashion_mnist_std);
  for (size_t k = 0; k < n; ++k) {
    const uint32_t i = indices[k];
    if (i >= set.count)
      throw std::out_of_range("sample index " + std::to_string(i) + " out of range");
    const uint8_t* src = &set.pixels[static_cast<size_t>(i) * pixels];
    float* dst = &d.x[k * pixels];
    for (size_t p = 0; p < pixels; ++p) dst[p] = table[src[p]];
    d.y[k] = set.labels[i];
  }
  return d;
}

}  // namespace fedactor
