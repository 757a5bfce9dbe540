// Tests of runtime/learning/fashion_mnist.*: Fashion-MNIST IDX .gz fixtures written by the test,
// plus one check of the installed dataset's size, balance and normalisation constants.

#include "runtime/learning/fashion_mnist.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/idx_files.hpp"

using namespace fedactor;
using fedactor::test::fixture_pixel;
using fedactor::test::idx_bytes;
using fedactor::test::temp_dir;
using fedactor::test::write_fmnist_dir;
using fedactor::test::write_fmnist_split;
using fedactor::test::write_gz;

namespace {

std::string load_error(const std::string& dir, fmnist_split split) {
  try {
    load_fashion_mnist(dir, split);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no exception");
  return "";
}

}  // namespace

TEST_CASE("Fashion-MNIST file names are those of the Debian package", "[learning]") {
  CHECK(fmnist_images_file(fmnist_split::train) == "train-images-idx3-ubyte.gz");
  CHECK(fmnist_labels_file(fmnist_split::train) == "train-labels-idx1-ubyte.gz");
  CHECK(fmnist_images_file(fmnist_split::test) == "t10k-images-idx3-ubyte.gz");
  CHECK(fmnist_labels_file(fmnist_split::test) == "t10k-labels-idx1-ubyte.gz");
}

TEST_CASE("Fashion-MNIST loader normalises pixels and shapes samples 1x28x28", "[learning]") {
  temp_dir dir{"fmnist_ok"};
  write_fmnist_dir(dir, 30, 30);
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

TEST_CASE("Fashion-MNIST loader keeps the files' pixel bytes and labels as they are",
          "[learning]") {
  temp_dir dir{"fmnist_bytes"};
  write_fmnist_dir(dir, 12, 5);
  const auto set = load_fashion_mnist(dir.path.string(), fmnist_split::train);
  CHECK(set.count == 12);
  CHECK(set.rows == 28);
  CHECK(set.cols == 28);
  REQUIRE(set.pixels.size() == 12 * 784);
  REQUIRE(set.labels.size() == 12);
  for (uint32_t i = 0; i < 12; ++i) {
    REQUIRE(set.labels[i] == i % 10);
    for (uint32_t p = 0; p < 784; ++p) REQUIRE(set.pixels[i * 784 + p] == (i + p) % 256);
  }
}

TEST_CASE("Fashion-MNIST test split is read from the t10k files", "[learning]") {
  temp_dir dir{"fmnist_test_split"};
  write_fmnist_dir(dir, 20, 7);
  const auto test = load_fashion_mnist(dir.path.string(), fmnist_split::test);
  REQUIRE(test.count == 7);
  REQUIRE(test.labels.size() == 7);
  REQUIRE(test.pixels.size() == 7 * 784);
  // Test image i: label (i + 3) % 10, pixel p = (i + p + 128) % 256.
  CHECK(test.labels == std::vector<uint8_t>{3, 4, 5, 6, 7, 8, 9});
  CHECK(test.pixels[0] == 128);
  CHECK(test.pixels[6 * 784 + 121] == 255);
  CHECK(test.pixels[6 * 784 + 122] == 0);
  for (uint32_t i = 0; i < 7; ++i)
    for (uint32_t p = 0; p < 784; ++p)
      REQUIRE(test.pixels[i * 784 + p] == fixture_pixel(fmnist_split::test, i, p));
  // Only the test files are needed for the test split.
  temp_dir only_test{"fmnist_only_test"};
  write_fmnist_split(only_test, fmnist_split::test, 4);
  CHECK(load_fashion_mnist(only_test.path.string(), fmnist_split::test).count == 4);
}

TEST_CASE("Fashion-MNIST pixels normalise to (x/255 - 0.2860)/0.3530 as floats", "[learning]") {
  temp_dir dir{"fmnist_norm"};
  write_fmnist_dir(dir, 1, 1);
  const auto set = load_fashion_mnist(dir.path.string(), fmnist_split::train);
  const uint32_t first = 0;
  const auto d = make_image_dataset(set, &first, 1);
  REQUIRE(d.x.size() == 784);
  // Train image 0 holds byte value v at pixel v for v = 0..255. Hand-computed values, each
  // rounded to the nearest float: -0.286/0.353, (1/255 - 0.286)/0.353, ...
  CHECK(d.x[0] == -0.8101983070373535f);
  CHECK(d.x[1] == -0.7990890145301819f);
  CHECK(d.x[73] == 0.0007776481797918677f);  // 73/255 is just above the mean
  CHECK(d.x[128] == 0.6117869019508362f);
  CHECK(d.x[254] == 2.0115535259246826f);
  CHECK(d.x[255] == 2.022662878036499f);
  for (int v = 0; v < 256; ++v) {
    INFO("byte " << v);
    REQUIRE(d.x[v] == static_cast<float>((v / 255.0 - fashion_mnist_mean) / fashion_mnist_std));
  }
  // Pixels 256.. repeat the bytes from 0.
  CHECK(d.x[256] == d.x[0]);
  CHECK(d.x[783] == d.x[783 - 512]);
}

TEST_CASE("Fashion-MNIST datasets hold the requested samples in the given order", "[learning]") {
  temp_dir dir{"fmnist_order"};
  write_fmnist_dir(dir, 25, 1);
  const auto set = load_fashion_mnist(dir.path.string(), fmnist_split::train);
  const uint32_t idx[] = {24, 3, 3, 17};
  const auto d = make_image_dataset(set, idx, 4);
  REQUIRE(d.size() == 4);
  CHECK(d.y == std::vector<int64_t>{4, 3, 3, 7});
  REQUIRE(d.x.size() == 4 * 784);
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t p = 0; p < 784; p += 97) {
      const int v = fixture_pixel(fmnist_split::train, idx[k], p);
      REQUIRE(d.x[k * 784 + p] ==
              static_cast<float>((v / 255.0 - fashion_mnist_mean) / fashion_mnist_std));
    }
  }
  // No samples: an empty dataset that still knows its shape.
  const auto none = make_image_dataset(set, idx, 0);
  CHECK(none.size() == 0);
  CHECK(none.x.empty());
  CHECK(none.features == 784);
  CHECK(none.shape == std::vector<int64_t>{1, 28, 28});
  // An index past the split.
  const uint32_t bad[] = {2, 25};
  CHECK_THROWS_MATCHES(make_image_dataset(set, bad, 2), std::out_of_range,
                       Catch::Message("sample index 25 out of range"));
}

TEST_CASE("Fashion-MNIST loader takes images of any size, shaped 1 x rows x cols", "[learning]") {
  // Size checks against 28x28 belong to the data source; the loader reads what is there.
  temp_dir dir{"fmnist_small"};
  write_gz(dir.file("train-images-idx3-ubyte.gz"),
           idx_bytes({2, 2, 3}, {0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0}));
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({2}, {9, 1}));
  const auto set = load_fashion_mnist(dir.path.string(), fmnist_split::train);
  CHECK(set.count == 2);
  CHECK(set.rows == 2);
  CHECK(set.cols == 3);
  const uint32_t idx[] = {1, 0};
  const auto d = make_image_dataset(set, idx, 2);
  CHECK(d.features == 6);
  CHECK(d.shape == std::vector<int64_t>{1, 2, 3});
  CHECK(d.y == std::vector<int64_t>{1, 9});
  // 51/255 = 0.2 exactly in decimal: (0.2 - 0.286) / 0.353.
  CHECK(d.x[6 + 1] == static_cast<float>((51 / 255.0 - 0.2860) / 0.3530));
  CHECK(d.x[6 + 1] == Approx(-0.086 / 0.353).margin(1e-6));
  CHECK(d.x[0] == d.x[6 + 5]);  // byte 255
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
  write_fmnist_dir(dir, 10, 10);
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({9}, std::vector<uint8_t>(9, 1)));
  CHECK_THROWS_WITH(load_fashion_mnist(dir.path.string(), fmnist_split::test),
                    dir.file("t10k-labels-idx1-ubyte.gz") +
                        ": 9 labels for 10 images in t10k-images-idx3-ubyte.gz");
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({10}, std::vector<uint8_t>(10, 12)));
  CHECK_THROWS_WITH(
      load_fashion_mnist(dir.path.string(), fmnist_split::test),
      dir.file("t10k-labels-idx1-ubyte.gz") + ": label 12 of sample 0 is not in [0, 9]");
}

TEST_CASE(
    "Fashion-MNIST loader names a missing labels file, more labels than images and a label "
    "of 10",
    "[learning]") {
  temp_dir dir{"fmnist_bad_labels"};
  write_fmnist_split(dir, fmnist_split::train, 6);
  std::filesystem::remove(dir.file("train-labels-idx1-ubyte.gz"));
  const std::string missing = load_error(dir.path.string(), fmnist_split::train);
  CHECK(missing == dir.file("train-labels-idx1-ubyte.gz") +
                       ": no such file (install the Debian package dataset-fashion-mnist, or "
                       "point data.path at a directory holding the Fashion-MNIST IDX .gz files)");
  CHECK(missing.find('\n') == std::string::npos);
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({7}, std::vector<uint8_t>(7, 0)));
  CHECK(load_error(dir.path.string(), fmnist_split::train) ==
        dir.file("train-labels-idx1-ubyte.gz") +
            ": 7 labels for 6 images in train-images-idx3-ubyte.gz");
  // 10 is the first label out of range; the message gives the sample.
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({6}, {0, 9, 1, 10, 2, 3}));
  CHECK(load_error(dir.path.string(), fmnist_split::train) ==
        dir.file("train-labels-idx1-ubyte.gz") + ": label 10 of sample 3 is not in [0, 9]");
}

TEST_CASE("Fashion-MNIST loader rejects images of size 0 and files of the wrong kind",
          "[learning]") {
  temp_dir dir{"fmnist_bad_images"};
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({2, 0, 28}, {}));
  write_gz(dir.file("train-labels-idx1-ubyte.gz"), idx_bytes({2}, {1, 2}));
  CHECK(load_error(dir.path.string(), fmnist_split::train) ==
        dir.file("train-images-idx3-ubyte.gz") + ": images of size 0");
  // Labels where the images should be: the IDX reader's error names the file.
  write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({2}, {1, 2}));
  CHECK(load_error(dir.path.string(), fmnist_split::train)
            .rfind(dir.file("train-images-idx3-ubyte.gz") + ": wrong magic number 0x00000801", 0) ==
        0);
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
