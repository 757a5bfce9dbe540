#pragma once

// Test helpers: IDX .gz files written by the tests into a fresh temporary directory, and a
// small Fashion-MNIST-shaped directory whose every pixel and label is a known formula.

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/fashion_mnist.hpp"

namespace fedactor::test {

// A fresh directory under the temp dir (named after the test and the process, so that
// concurrent test runs do not share it), removed with the object.
struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("fedactor_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// An IDX file's bytes: magic (0, 0, type, number of dimensions), big-endian dimensions, values.
inline std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims,
                                      const std::vector<uint8_t>& values, uint8_t type = 0x08) {
  std::vector<uint8_t> out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

inline void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// The fixture's values: pixel p of image i is (i + p) % 256 in the train split and
// (i + p + 128) % 256 in the test split; the label of image i is i % 10 (train) and
// (i + 3) % 10 (test). Image 0 of the train split thus holds every byte value 0..255 at
// pixels 0..255.
inline uint8_t fixture_pixel(fmnist_split split, uint32_t image, uint32_t pixel) {
  const uint32_t shift = split == fmnist_split::train ? 0 : 128;
  return static_cast<uint8_t>((image + pixel + shift) % 256);
}

inline uint8_t fixture_label(fmnist_split split, uint32_t image) {
  const uint32_t shift = split == fmnist_split::train ? 0 : 3;
  return static_cast<uint8_t>((image + shift) % 10);
}

// Writes one split of n rows × cols images (fixture values) into `dir`.
inline void write_fmnist_split(const temp_dir& dir, fmnist_split split, uint32_t n,
                               uint32_t rows = 28, uint32_t cols = 28) {
  const uint32_t side = rows * cols;
  std::vector<uint8_t> pixels(size_t{n} * side);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] =
        fixture_pixel(split, static_cast<uint32_t>(i / side), static_cast<uint32_t>(i % side));
  std::vector<uint8_t> labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = fixture_label(split, i);
  write_gz(dir.file(fmnist_images_file(split)), idx_bytes({n, rows, cols}, pixels));
  write_gz(dir.file(fmnist_labels_file(split)), idx_bytes({n}, labels));
}

// A Fashion-MNIST-shaped directory: `train` 28×28 training images and `test` test images.
inline void write_fmnist_dir(const temp_dir& dir, uint32_t train, uint32_t test) {
  write_fmnist_split(dir, fmnist_split::train, train);
  write_fmnist_split(dir, fmnist_split::test, test);
}

}  // namespace fedactor::test
