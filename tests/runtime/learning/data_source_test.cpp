// Tests of runtime/learning/data_source.*: make_data_source and make_model_spec, the scenario's
// data and model by kind. Fashion-MNIST comes from IDX .gz fixtures written by the test.

#include "runtime/learning/data_source.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/fashion_mnist_source.hpp"
#include "runtime/learning/leaf_synthetic.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "tests/support/idx_files.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;
using fedactor::test::temp_dir;
using fedactor::test::write_fmnist_dir;

namespace {

scenario with_data(data_kind kind, uint64_t seed = 5) {
  scenario s;
  s.seed = seed;
  s.data.kind = kind;
  return s;
}

std::string fixture(const std::string& name) {
  return std::string(FEDACTOR_SOURCE_DIR) + "/tests/fixtures/" + name;
}

template <class Fn>
std::string runtime_error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  FAIL("no std::runtime_error");
  return "";
}

}  // namespace

TEST_CASE("make_data_source builds tutorial_random data from data.features, classes and seed",
          "[learning]") {
  auto s = with_data(data_kind::tutorial_random, 8);
  s.data.features = 12;
  s.data.classes = 4;
  s.data.min_samples = 10;
  s.data.max_samples = 20;
  const auto src = make_data_source(s);
  REQUIRE(src);
  REQUIRE(dynamic_cast<const tutorial_random_source*>(src.get()));
  CHECK(src->features() == 12);
  CHECK(src->classes() == 4);
  CHECK(src->input_shape() == std::vector<int64_t>{12});
  CHECK_FALSE(src->test_set());
  const tutorial_random_source direct{s.data, 8};
  for (uint64_t c = 0; c < 20; ++c) {
    REQUIRE(src->num_samples(c) == direct.num_samples(c));
    REQUIRE(src->num_samples(c) >= 10);
    REQUIRE(src->num_samples(c) < 20);
  }
  CHECK(src->make(3).x == direct.make(3).x);
  CHECK(src->make(3).y == direct.make(3).y);
}

TEST_CASE("make_data_source builds teacher data with its held-out test set", "[learning]") {
  auto s = with_data(data_kind::teacher, 3);
  s.data.features = 6;
  s.data.classes = 3;
  const auto src = make_data_source(s);
  REQUIRE(dynamic_cast<const teacher_source*>(src.get()));
  CHECK(src->features() == 6);
  CHECK(src->classes() == 3);
  const teacher_source direct{s.data, 3};
  CHECK(src->make(11).y == direct.make(11).y);
  const auto test = src->test_set();
  REQUIRE(test);
  CHECK(test->size() == teacher_test_samples);
  CHECK(test->y == direct.test_set()->y);
}

TEST_CASE("make_data_source builds leaf_synthetic data with 60 features and 10 classes",
          "[learning]") {
  auto s = with_data(data_kind::leaf_synthetic, 4);
  s.data.features = 7;  // does not apply to leaf_synthetic
  s.data.classes = 3;
  s.data.alpha = 1.0;
  s.data.beta = 0.25;
  const auto src = make_data_source(s);
  REQUIRE(dynamic_cast<const leaf_synthetic_source*>(src.get()));
  CHECK(src->features() == 60);
  CHECK(src->classes() == 10);
  CHECK(src->input_shape() == std::vector<int64_t>{60});
  CHECK_FALSE(src->test_set());
  const leaf_synthetic_source direct{s.data, 4};
  CHECK(src->num_samples(9) == direct.num_samples(9));
  CHECK(src->make(9).x == direct.make(9).x);
  // data.alpha and data.beta reach the source.
  auto t = s;
  t.data.beta = 2.0;
  CHECK(make_data_source(t)->make(9).x != direct.make(9).x);
}

TEST_CASE("make_data_source splits fashion_mnist over population.clients with data.partition",
          "[learning]") {
  temp_dir dir{"data_source_fmnist"};
  write_fmnist_dir(dir, 120, 6);
  auto s = with_data(data_kind::fashion_mnist, 2);
  s.data.path = dir.path.string();
  s.data.partition = partition_kind::dirichlet;
  s.data.alpha = 0.4;
  s.population.clients = 9;
  const auto src = make_data_source(s);
  const auto* fm = dynamic_cast<const fashion_mnist_source*>(src.get());
  REQUIRE(fm);
  CHECK(src->features() == 784);
  CHECK(src->classes() == 10);
  CHECK(src->input_shape() == std::vector<int64_t>{1, 28, 28});
  REQUIRE(fm->split().clients() == 9);
  uint64_t total = 0;
  for (uint64_t c = 0; c < 9; ++c) total += src->num_samples(c);
  CHECK(total == 120);
  CHECK(src->num_samples(9) == 0);
  REQUIRE(src->test_set());
  CHECK(src->test_set()->size() == 6);
  // The same scenario built directly: the same (shared) partition.
  const fashion_mnist_source direct{s.data, 9, 2};
  CHECK(&direct.split() == &fm->split());
}

TEST_CASE("make_data_source errors for bad fashion_mnist settings are one line naming the cause",
          "[learning]") {
  temp_dir dir{"data_source_bad"};
  auto s = with_data(data_kind::fashion_mnist);
  s.data.path = dir.file("nowhere");
  s.population.clients = 3;
  auto msg = runtime_error_of([&] { make_data_source(s); });
  CHECK(msg == dir.file("nowhere") +
                   "/train-images-idx3-ubyte.gz: no such file (install the Debian package "
                   "dataset-fashion-mnist, or point data.path at a directory holding the "
                   "Fashion-MNIST IDX .gz files)");
  CHECK(msg.find('\n') == std::string::npos);

  write_fmnist_dir(dir, 20, 2);
  s.data.path = dir.path.string();
  s.population.clients = 50;
  msg = runtime_error_of([&] { make_data_source(s); });
  CHECK(msg == "data.partition iid: 50 clients but only 20 training samples");

  s.population.clients = 4;
  s.data.partition = partition_kind::quantity_skew;
  s.data.alpha = -1;
  msg = runtime_error_of([&] { make_data_source(s); });
  CHECK(msg ==
        "data.partition quantity_skew: alpha must be > 0 for the dirichlet and quantity_skew "
        "partitions");

  s.data.partition = partition_kind::labels_per_client;
  s.data.labels_per_client = 0;
  msg = runtime_error_of([&] { make_data_source(s); });
  CHECK(msg == "data.partition labels_per_client: labels_per_client must be in [1, 10], got 0");
  CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("make_model_spec shapes an MLP to the data kind's inputs and classes", "[learning]") {
  auto s = with_data(data_kind::tutorial_random);
  s.data.features = 12;
  s.data.classes = 4;
  s.model.hidden = {8, 6};
  auto spec = make_model_spec(s);
  CHECK(spec.kind == model_kind::mlp);
  CHECK(spec.inputs == 12);
  CHECK(spec.hidden == std::vector<uint32_t>{8, 6});
  CHECK(spec.classes == 4);
  CHECK(spec.input_shape.empty());
  CHECK(spec.num_params() == 12 * 8 + 8 + 8 * 6 + 6 + 6 * 4 + 4);

  s.data.kind = data_kind::teacher;
  CHECK(make_model_spec(s) == spec);

  // Fashion-MNIST and leaf_synthetic fix their own dimensions, whatever data.features says.
  s.data.kind = data_kind::fashion_mnist;
  s.data.path = "/nonexistent";  // the model does not read the data
  spec = make_model_spec(s);
  CHECK(spec.inputs == 784);
  CHECK(spec.classes == 10);
  CHECK(spec.hidden == std::vector<uint32_t>{8, 6});
  s.data.kind = data_kind::leaf_synthetic;
  spec = make_model_spec(s);
  CHECK(spec.inputs == 60);
  CHECK(spec.classes == 10);

  // No hidden layer: logistic regression.
  s.model.hidden = {};
  CHECK(make_model_spec(s).num_params() == 60 * 10 + 10);
}

TEST_CASE("make_model_spec gives the simple CNN on 1x28x28 Fashion-MNIST images", "[learning]") {
  auto s = with_data(data_kind::fashion_mnist);
  s.model.kind = model_kind::cnn;
  s.model.hidden = {99};  // not used by the CNN
  const auto spec = make_model_spec(s);
  CHECK(spec == cnn_spec({1, 28, 28}, 10));
  CHECK(spec.kind == model_kind::cnn);
  CHECK(spec.input_shape == std::vector<int64_t>{1, 28, 28});
  CHECK(spec.num_params() == 44426);
}

TEST_CASE("make_model_spec refuses a CNN on flat data with the reason", "[learning]") {
  auto s = with_data(data_kind::tutorial_random);
  s.model.kind = model_kind::cnn;
  CHECK_THROWS_MATCHES(make_model_spec(s), std::invalid_argument,
                       Catch::Message("cnn needs a C×H×W input shape, got 1 dimensions"));
}

TEST_CASE("make_model_spec reads a TorchScript model.path against the data's shape", "[learning]") {
  auto s = with_data(data_kind::fashion_mnist);
  s.model.kind = model_kind::torchscript;
  s.model.path = fixture("tiny_mlp.pt");
  const auto spec = make_model_spec(s);
  CHECK(spec == torchscript_spec(fixture("tiny_mlp.pt"), 784, {1, 28, 28}, 10));
  CHECK(spec.param_shapes == std::vector<std::vector<int64_t>>{{16, 784}, {16}, {10, 16}, {10}});

  s.model.path = "/nonexistent/m.pt";
  CHECK(runtime_error_of([&] { make_model_spec(s); }) ==
        "/nonexistent/m.pt: no such TorchScript file");
  // A module that does not fit the data: leaf_synthetic rows have 60 values, not 784.
  s.data.kind = data_kind::leaf_synthetic;
  s.model.path = fixture("tiny_mlp.pt");
  CHECK_THAT(runtime_error_of([&] { make_model_spec(s); }),
             Catch::StartsWith(fixture("tiny_mlp.pt") + ": forward on a [1, 60] input failed"));
}
