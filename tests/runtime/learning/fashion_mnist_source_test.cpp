// Tests of runtime/learning/fashion_mnist_source.*: the fashion_mnist data source on Fashion-MNIST
// IDX .gz fixtures written by the test (never the installed dataset).

#include "runtime/learning/fashion_mnist_source.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/population/registry.hpp"
#include "tests/support/idx_files.hpp"

using namespace fedactor;
using fedactor::test::fixture_label;
using fedactor::test::fixture_pixel;
using fedactor::test::temp_dir;
using fedactor::test::write_fmnist_dir;
using fedactor::test::write_fmnist_split;

namespace {

data_config fmnist(const temp_dir& dir, partition_kind kind = partition_kind::iid,
                   double alpha = 0.5, uint32_t labels_per_client = 2) {
  data_config cfg;
  cfg.kind = data_kind::fashion_mnist;
  cfg.path = dir.path.string();
  cfg.partition = kind;
  cfg.alpha = alpha;
  cfg.labels_per_client = labels_per_client;
  return cfg;
}

float normalised(uint8_t v) {
  return static_cast<float>((v / 255.0 - fashion_mnist_mean) / fashion_mnist_std);
}

std::string construction_error(const data_config& cfg, uint64_t clients, uint64_t seed) {
  try {
    fashion_mnist_source src{cfg, clients, seed};
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no exception");
  return "";
}

}  // namespace

TEST_CASE("fashion_mnist source: num_samples equals the partition, datasets come from it",
          "[learning]") {
  temp_dir dir{"fmnist_source"};
  write_fmnist_dir(dir, 200, 200);
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

TEST_CASE("fashion_mnist source has 784 features in 1x28x28 images and 10 classes", "[learning]") {
  temp_dir dir{"fmnist_source_shape"};
  write_fmnist_dir(dir, 20, 5);
  const fashion_mnist_source src{fmnist(dir), 4, 1};
  CHECK(src.features() == 784);
  CHECK(src.classes() == 10);
  CHECK(src.input_shape() == std::vector<int64_t>{1, 28, 28});
  CHECK(src.train().count == 20);
  CHECK(src.split().clients() == 4);
  const auto d = src.make(2);
  CHECK(d.features == 784);
  CHECK(d.shape == std::vector<int64_t>{1, 28, 28});
  CHECK(d.x.size() == size_t{d.size()} * 784);
}

TEST_CASE("fashion_mnist source: a client's dataset is its partition samples, normalised",
          "[learning]") {
  temp_dir dir{"fmnist_source_values"};
  write_fmnist_dir(dir, 50, 3);
  const fashion_mnist_source src{fmnist(dir, partition_kind::labels_per_client, 0.5, 2), 10, 9};
  for (uint64_t c = 0; c < 10; ++c) {
    INFO("client " << c);
    const auto d = src.make(c);
    REQUIRE(d.size() == src.split().size(c));
    for (uint32_t k = 0; k < d.size(); ++k) {
      const uint32_t i = src.split().indices(c)[k];
      REQUIRE(d.y[k] == fixture_label(fmnist_split::train, i));
      for (uint32_t p = 0; p < 784; p += 61)
        REQUIRE(d.x[size_t{k} * 784 + p] == normalised(fixture_pixel(fmnist_split::train, i, p)));
    }
    // labels_per_client 2: client c holds label c % 10 and one other.
    std::vector<int> held(10, 0);
    for (auto y : d.y) held[static_cast<size_t>(y)] = 1;
    CHECK(held[c % 10] == 1);
    CHECK(held[0] + held[1] + held[2] + held[3] + held[4] + held[5] + held[6] + held[7] + held[8] +
              held[9] ==
          2);
  }
}

TEST_CASE("fashion_mnist source sizes are the registry's num_samples", "[learning]") {
  temp_dir dir{"fmnist_source_registry"};
  write_fmnist_dir(dir, 300, 10);
  for (auto kind : {partition_kind::iid, partition_kind::dirichlet,
                    partition_kind::labels_per_client, partition_kind::quantity_skew}) {
    INFO(to_string(kind));
    const fashion_mnist_source src{fmnist(dir, kind, 0.3, 3), 13, 21};
    const client_registry registry{13, 21, 2, [&src](client_id id) { return src.num_samples(id); }};
    REQUIRE(registry.size() == 13);
    for (uint64_t c = 0; c < 13; ++c) {
      REQUIRE(registry.num_samples(static_cast<client_id>(c)) == src.split().size(c));
      REQUIRE(registry.num_samples(static_cast<client_id>(c)) == src.make(c).size());
    }
    CHECK(registry.total_samples() == 300);
  }
  // iid: 300 samples over 13 clients, 23 or 24 each.
  const fashion_mnist_source iid{fmnist(dir), 13, 21};
  for (uint64_t c = 0; c < 13; ++c) CHECK((iid.num_samples(c) == 23 || iid.num_samples(c) == 24));
}

TEST_CASE("fashion_mnist source: clients outside the partition have no samples and no dataset",
          "[learning]") {
  temp_dir dir{"fmnist_source_outside"};
  write_fmnist_dir(dir, 30, 3);
  const fashion_mnist_source src{fmnist(dir), 7, 0};
  CHECK(src.num_samples(7) == 0);
  CHECK(src.num_samples(UINT64_MAX) == 0);
  CHECK_THROWS_MATCHES(src.make(7), std::out_of_range,
                       Catch::Message("client 7 is outside the partition (7 clients)"));
}

TEST_CASE("fashion_mnist source test set is the whole t10k split, normalised, in order",
          "[learning]") {
  temp_dir dir{"fmnist_source_test"};
  write_fmnist_dir(dir, 40, 9);
  const fashion_mnist_source src{fmnist(dir), 4, 2};
  const auto test = src.test_set();
  REQUIRE(test);
  REQUIRE(test->size() == 9);
  CHECK(test->features == 784);
  CHECK(test->shape == std::vector<int64_t>{1, 28, 28});
  CHECK(test->y == std::vector<int64_t>{3, 4, 5, 6, 7, 8, 9, 0, 1});
  REQUIRE(test->x.size() == 9 * 784);
  for (uint32_t i = 0; i < 9; ++i)
    for (uint32_t p = 0; p < 784; ++p)
      REQUIRE(test->x[size_t{i} * 784 + p] == normalised(fixture_pixel(fmnist_split::test, i, p)));
}

TEST_CASE("fashion_mnist source shares data per path and partitions per settings", "[learning]") {
  temp_dir dir{"fmnist_source_cache"};
  write_fmnist_dir(dir, 60, 3);
  const auto cfg = fmnist(dir, partition_kind::dirichlet, 0.5);
  const fashion_mnist_source a{cfg, 6, 1};
  const fashion_mnist_source same{cfg, 6, 1};
  const fashion_mnist_source other_seed{cfg, 6, 2};
  const fashion_mnist_source other_clients{cfg, 5, 1};
  const fashion_mnist_source other_alpha{fmnist(dir, partition_kind::dirichlet, 0.25), 6, 1};
  CHECK(&same.split() == &a.split());
  for (const auto* s : {&same, &other_seed, &other_clients, &other_alpha})
    CHECK(&s->train() == &a.train());
  CHECK(&other_seed.split() != &a.split());
  CHECK(&other_clients.split() != &a.split());
  CHECK(&other_alpha.split() != &a.split());
  CHECK(other_clients.split().clients() == 5);
  // Same settings, same partition; another seed, another partition.
  CHECK(other_seed.split().all_indices() != a.split().all_indices());
  CHECK(shared_fashion_mnist(dir.path.string(), fmnist_split::train).get() == &a.train());
}

TEST_CASE("fashion_mnist source names a missing file and the Debian package in one line",
          "[learning]") {
  temp_dir dir{"fmnist_source_missing"};
  const std::string msg = construction_error(fmnist(dir), 3, 0);
  CHECK(msg == dir.file("train-images-idx3-ubyte.gz") +
                   ": no such file (install the Debian package dataset-fashion-mnist, or point "
                   "data.path at a directory holding the Fashion-MNIST IDX .gz files)");
  CHECK(msg.find('\n') == std::string::npos);
  // Training files only: the source is built, the test set names the missing t10k file.
  write_fmnist_split(dir, fmnist_split::train, 10);
  const fashion_mnist_source src{fmnist(dir), 3, 0};
  CHECK_THROWS_WITH(src.test_set(),
                    Catch::StartsWith(dir.file("t10k-images-idx3-ubyte.gz") + ": no such file") &&
                        Catch::Contains("dataset-fashion-mnist"));
}

TEST_CASE("fashion_mnist source rejects images that are not 28x28 and mismatched counts",
          "[learning]") {
  temp_dir dir{"fmnist_source_bad"};
  write_fmnist_split(dir, fmnist_split::train, 5, 2, 3);
  CHECK(construction_error(fmnist(dir), 2, 0) ==
        dir.path.string() + "/train-images-idx3-ubyte.gz: images are 2x3, expected 28x28");
  write_fmnist_split(dir, fmnist_split::train, 5);
  fedactor::test::write_gz(dir.file("train-labels-idx1-ubyte.gz"),
                           fedactor::test::idx_bytes({4}, {0, 1, 2, 3}));
  CHECK(construction_error(fmnist(dir), 2, 0) ==
        dir.file("train-labels-idx1-ubyte.gz") +
            ": 4 labels for 5 images in train-images-idx3-ubyte.gz");
}

TEST_CASE("fashion_mnist source reports a partition it cannot make with data.partition",
          "[learning]") {
  temp_dir dir{"fmnist_source_partition"};
  write_fmnist_dir(dir, 20, 2);
  CHECK(construction_error(fmnist(dir), 21, 0) ==
        "data.partition iid: 21 clients but only 20 training samples");
  CHECK(construction_error(fmnist(dir, partition_kind::labels_per_client, 0.5, 11), 4, 0) ==
        "data.partition labels_per_client: labels_per_client must be in [1, 10], got 11");
  CHECK(construction_error(fmnist(dir, partition_kind::dirichlet, 0.0), 4, 0) ==
        "data.partition dirichlet: alpha must be > 0 for the dirichlet and quantity_skew "
        "partitions");
  // 2 samples per label, but 8 clients x 5 labels = 40 holdings over 10 labels: some label
  // has more than 2 holders.
  CHECK_THAT(construction_error(fmnist(dir, partition_kind::labels_per_client, 0.5, 5), 8, 0),
             Catch::StartsWith("data.partition labels_per_client: label ") &&
                 Catch::Contains(" has 2 samples for ") && Catch::EndsWith(" clients holding it"));
}
