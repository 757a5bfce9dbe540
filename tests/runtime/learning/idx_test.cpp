// Tests of runtime/learning/idx.* and fashion_mnist.*: IDX .gz files written by the test.

#include "runtime/learning/idx.hpp"

#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/fashion_mnist.hpp"
#include "runtime/learning/fashion_mnist_source.hpp"

using namespace fedactor;

namespace {

namespace fs = std::filesystem;

// A fresh directory under the temp dir, removed with the object.
struct temp_dir {
  fs::path path;
  explicit temp_dir(const std::string& name)
      : path(fs::temp_directory_path() / ("fedactor_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& values,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::string error_of(const std::string& path, uint32_t ndims) {
  try {
    read_idx_gz(path, ndims);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no exception");
  return "";
}

// A Fashion-MNIST-shaped directory: n 28×28 images (pixel p of image i = (i + p) % 256) and
// labels i % 10, for both splits.
void write_fmnist_dir(const temp_dir& dir, uint32_t n) {
  std::vector<uint8_t> pixels(size_t{n} * 784);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<uint8_t>((i / 784 + i % 784) % 256);
  std::vector<uint8_t> labels(n);
  for (uint32_t i = 0; i < n; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  for (auto split : {fmnist_split::train, fmnist_split::test}) {
    write_gz(dir.file(fmnist_images_file(split)), idx_bytes({n, 28, 28}, pixels));
    write_gz(dir.file(fmnist_labels_file(split)), idx_bytes({n}, labels));
  }
}

}  // namespace

TEST_CASE("IDX reader reads the dimensions and bytes of a gzip-compressed file", "[learning]") {
  temp_dir dir{"idx_ok"};
  write_gz(dir.file("a.gz"), idx_bytes({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}));
  auto a = read_idx_gz(dir.file("a.gz"), 3);
  CHECK(a.dims == std::vector<uint32_t>{3, 2, 2});
  CHECK(a.data == std::vector<uint8_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
  write_gz(dir.file("l.gz"), idx_bytes({4}, {9, 0, 3, 3}));
  CHECK(read_idx_gz(dir.file("l.gz"), 1).data == std::vector<uint8_t>{9, 0, 3, 3});
}

TEST_CASE("IDX reader reports a truncated file with its name and the missing bytes", "[learning]") {
  temp_dir dir{"idx_truncated"};
  // Valid gzip, but the IDX data stops 4 values short.
  write_gz(dir.file("short.gz"), idx_bytes({2, 2, 2}, {1, 2, 3, 4}));
  CHECK(error_of(dir.file("short.gz"), 3) ==
        dir.file("short.gz") + ": truncated: the data needs 8 bytes, the file ends after 4");
  // A gzip stream cut in the middle.
  std::vector<uint8_t> values(5000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 7919 % 251);
  write_gz(dir.file("full.gz"), idx_bytes({5000}, values));
  {
    std::ifstream in(dir.file("full.gz"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(dir.file("cut.gz"), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  const auto msg = error_of(dir.file("cut.gz"), 1);
  CHECK(msg.rfind(dir.file("cut.gz") + ": truncated: the data needs 5000 bytes", 0) == 0);
}

TEST_CASE("IDX reader rejects a wrong magic number, naming the file", "[learning]") {
  temp_dir dir{"idx_magic"};
  write_gz(dir.file("float.gz"), idx_bytes({2}, {0, 0, 0, 0, 0, 0, 0, 0}, 0x0D));
  CHECK(error_of(dir.file("float.gz"), 1) ==
        dir.file("float.gz") +
            ": wrong magic number 0x00000d01, expected 0x00000801 (not an IDX file of unsigned "
            "bytes with 1 dimensions)");
  write_gz(dir.file("images.gz"), idx_bytes({1, 1, 1}, {0}));
  CHECK(error_of(dir.file("images.gz"), 1).find("wrong magic number 0x00000803") !=
        std::string::npos);
}

TEST_CASE("IDX reader reports a missing file, plain bytes and trailing data", "[learning]") {
  temp_dir dir{"idx_other"};
  CHECK(error_of(dir.file("none.gz"), 1) == dir.file("none.gz") + ": no such file");
  {
    std::ofstream out(dir.file("plain.gz"), std::ios::binary);
    auto b = idx_bytes({1}, {3});
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  CHECK(error_of(dir.file("plain.gz"), 1) ==
        dir.file("plain.gz") + ": not gzip data (expected a .gz compressed IDX file)");
  write_gz(dir.file("long.gz"), idx_bytes({1}, {3, 4}));
  CHECK(error_of(dir.file("long.gz"), 1) ==
        dir.file("long.gz") + ": trailing bytes after 1 values");
}

TEST_CASE("Fashion-MNIST loader normalises pixels and shapes samples 1x28x28", "[learning]") {
  temp_dir dir{"fmnist_ok"};
  write_fmnist_dir(dir, 30);
  auto set = load_fashion_mnist(dir.path.string(), fmnist_split::train);
  REQUIRE(set.count == 30);
  CHECK(set.rows == 28);
  CHECK(set.labels[13] == 3);
  const uint32_t idx[] = {0, 13};
  auto d = make_image_dataset(set, idx, 2);
  CHECK(d.features == 784);
  CHECK(d.shape == std::vector<int64_t>{1, 28, 28});
  CHECK(d.y == std::vector<int64_t>{0, 3});
  // Image 0, pixel 0 is 0; image 13, pixel 242 is 255.
  CHECK(d.x[0] == Approx((0.0 - 0.2860) / 0.3530));
  CHECK(d.x[784 + 242] == Approx((1.0 - 0.2860) / 0.3530));
}

TEST_CASE("Fashion-MNIST loader names the package for a missing file and a count mismatch",
          "[learning]") {
  temp_dir dir{"fmnist_bad"};
  try {
    load_fashion_mnist(dir.path.string(), fmnist_split::train);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) ==
          dir.file("train-images-idx3-ubyte.gz") +
              ": no such file (install the Debian package dataset-fashion-mnist, or point "
              "data.path at a directory holding the Fashion-MNIST IDX .gz files)");
  }
  write_fmnist_dir(dir, 10);
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({9}, std::vector<uint8_t>(9, 1)));
  CHECK_THROWS_WITH(load_fashion_mnist(dir.path.string(), fmnist_split::test),
                    dir.file("t10k-labels-idx1-ubyte.gz") +
                        ": 9 labels for 10 images in t10k-images-idx3-ubyte.gz");
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({10}, std::vector<uint8_t>(10, 12)));
  CHECK_THROWS_WITH(
      load_fashion_mnist(dir.path.string(), fmnist_split::test),
      dir.file("t10k-labels-idx1-ubyte.gz") + ": label 12 of sample 0 is not in [0, 9]");
}

TEST_CASE("the installed Fashion-MNIST has 60000 train and 10000 test samples, balanced",
          "[learning]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  auto train = load_fashion_mnist(dir, fmnist_split::train);
  auto test = load_fashion_mnist(dir, fmnist_split::test);
  CHECK(train.count == 60000);
  CHECK(test.count == 10000);
  CHECK(train.rows == 28);
  CHECK(train.cols == 28);
  std::vector<int> counts(10, 0);
  for (auto l : train.labels) ++counts[l];
  for (int c : counts) CHECK(c == 6000);
  // The standard normalisation constants are the training pixels' mean and deviation.
  double sum = 0;
  double sq = 0;
  for (auto p : train.pixels) sum += p / 255.0, sq += (p / 255.0) * (p / 255.0);
  const double mean = sum / static_cast<double>(train.pixels.size());
  const double sd = std::sqrt(sq / static_cast<double>(train.pixels.size()) - mean * mean);
  CHECK(mean == Approx(fashion_mnist_mean).margin(5e-4));
  CHECK(sd == Approx(fashion_mnist_std).margin(5e-4));
}

TEST_CASE("fashion_mnist source: num_samples equals the partition, datasets come from it",
          "[learning]") {
  temp_dir dir{"fmnist_source"};
  write_fmnist_dir(dir, 200);
  data_config cfg;
  cfg.kind = data_kind::fashion_mnist;
  cfg.path = dir.path.string();
  cfg.partition = partition_kind::dirichlet;
  cfg.alpha = 0.5;
  fashion_mnist_source src{cfg, 7, 3};
  uint64_t total = 0;
  for (uint64_t c = 0; c < 7; ++c) {
    auto d = src.make(c);
    REQUIRE(d.size() == src.num_samples(c));
    REQUIRE(d.size() == src.split().size(c));
    REQUIRE(d.size() > 0);
    for (uint32_t k = 0; k < d.size(); ++k) {
      const uint32_t i = src.split().indices(c)[k];
      REQUIRE(d.y[k] == static_cast<int64_t>(i % 10));
    }
    total += d.size();
  }
  CHECK(total == 200);
  CHECK_THROWS_AS(src.make(7), std::out_of_range);
  auto test = src.test_set();
  REQUIRE(test);
  CHECK(test->size() == 200);
  // A second source with the same settings shares the pixels and the partition.
  fashion_mnist_source again{cfg, 7, 3};
  CHECK(&again.train() == &src.train());
  CHECK(&again.split() == &src.split());
}
