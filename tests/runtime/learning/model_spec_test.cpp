#include "runtime/learning/model_spec.hpp"

#include <algorithm>
#include <cmath>

#include <catch2/catch.hpp>

TEST_CASE("the tutorial's 32-64-10 MLP has 2762 parameters", "[learning]") {
  fedactor::model_spec spec;
  CHECK(spec.widths() == std::vector<uint32_t>{32, 64, 10});
  CHECK(spec.num_params() == 32 * 64 + 64 + 64 * 10 + 10);
  fedactor::model_spec logistic{2, {}, 3};
  CHECK(logistic.num_params() == 2 * 3 + 3);
}

TEST_CASE("initial parameters are seeded and within PyTorch's default bounds", "[learning]") {
  fedactor::model_spec spec;
  auto a = fedactor::initial_params(spec, 5);
  auto b = fedactor::initial_params(spec, 5);
  auto c = fedactor::initial_params(spec, 6);
  REQUIRE(a.size() == spec.num_params());
  CHECK(a == b);
  CHECK(a != c);
  // First layer: fan_in 32 -> bound 1/sqrt(32); second layer: fan_in 64 -> 1/8.
  const size_t first = 32 * 64 + 64;
  for (size_t i = 0; i < a.size(); ++i) {
    const double bound = i < first ? 1.0 / std::sqrt(32.0) : 1.0 / 8.0;
    REQUIRE(std::fabs(a[i]) <= bound);
  }
}

TEST_CASE("the simple CNN has 44426 parameters on 28x28 inputs and 61706 on 32x32", "[learning]") {
  // conv1 1·6·25 + 6 = 156; conv2 6·16·25 + 16 = 2416; 28 → 24 → 12 → 8 → 4, so fc1 sees
  // 16·4·4 = 256: 256·120 + 120 = 30840; fc2 120·84 + 84 = 10164; fc3 84·10 + 10 = 850.
  auto mnist = fedactor::cnn_spec({1, 28, 28}, 10);
  CHECK(mnist.num_params() == 156 + 2416 + 30840 + 10164 + 850);
  CHECK(mnist.num_params() == 44426);
  CHECK(mnist.shapes()[4] == std::vector<int64_t>{120, 256});
  // LeNet-5 on 32×32: 32 → 28 → 14 → 10 → 5, fc1 sees 400: 400·120 + 120 = 48120.
  CHECK(fedactor::cnn_spec({1, 32, 32}, 10).num_params() == 156 + 2416 + 48120 + 10164 + 850);
  CHECK(fedactor::cnn_spec({3, 32, 32}, 10).num_params() == 62006);  // conv1 3·6·25 + 6
  CHECK_THROWS_AS(fedactor::cnn_spec({1, 12, 12}, 10), std::invalid_argument);
  CHECK_THROWS_AS(fedactor::cnn_spec({784}, 10), std::invalid_argument);
}

TEST_CASE("CNN initial parameters are seeded and within 1/sqrt(in_channels k k)", "[learning]") {
  auto spec = fedactor::cnn_spec({1, 28, 28}, 10);
  auto a = fedactor::initial_params(spec, 3);
  REQUIRE(a.size() == 44426);
  CHECK(a == fedactor::initial_params(spec, 3));
  CHECK(a != fedactor::initial_params(spec, 4));
  // conv1 (156 values): fan_in 1·5·5 = 25 → bound 0.2; conv2 (2416): fan_in 150.
  for (size_t i = 0; i < 156; ++i) REQUIRE(std::fabs(a[i]) <= 0.2);
  double widest = 0;
  for (size_t i = 0; i < 156; ++i) widest = std::max(widest, double(std::fabs(a[i])));
  CHECK(widest > 0.19);
  for (size_t i = 156; i < 156 + 2416; ++i) REQUIRE(std::fabs(a[i]) <= 1.0 / std::sqrt(150.0));
}

TEST_CASE("models without buffers have a flat vector of their parameters only",
          "[learning][buffers]") {
  fedactor::model_spec mlp;
  CHECK(mlp.num_buffer_values() == 0);
  CHECK(mlp.flat_size() == mlp.num_params());
  CHECK(mlp.buffer_range() == fedactor::flat_range{2762, 2762});
  CHECK(mlp.norm_ranges.empty());
  CHECK(mlp.unfederated_state().empty());
  auto cnn = fedactor::cnn_spec({1, 28, 28}, 10);
  CHECK(cnn.flat_size() == 44426);
  CHECK(fedactor::initial_params(cnn, 1).size() == cnn.flat_size());
}

TEST_CASE("the flat size counts parameters and buffer values, a scalar buffer as one",
          "[learning][buffers]") {
  fedactor::model_spec spec;
  spec.kind = fedactor::model_kind::torchscript;
  spec.path = "m.pt";
  spec.param_shapes = {{2, 3}, {2}};
  spec.buffers = {{"bn.running_mean", {2}, false}, {"bn.num_batches_tracked", {}, true}};
  spec.unfederated = {"mask (Bool [3])", "step (Int [])"};
  CHECK(spec.num_params() == 8);
  CHECK(spec.num_buffer_values() == 3);
  CHECK(spec.flat_size() == 11);
  CHECK(spec.buffer_range() == fedactor::flat_range{8, 11});
  CHECK(spec.unfederated_state() ==
        "m.pt: 2 buffers are not federated (every client starts from the file's value, "
        "model.pt keeps it): mask (Bool [3]), step (Int [])");
}

TEST_CASE("normalisation layers are recognised by their TorchScript class name",
          "[learning][buffers]") {
  using fedactor::is_norm_layer_class;
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.BatchNorm2d"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.___torch_mangle_0.BatchNorm2d"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.BatchNorm1d"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.BatchNorm3d"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.SyncBatchNorm"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.normalization.GroupNorm"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.normalization.LayerNorm"));
  CHECK(is_norm_layer_class("__torch__.torch.nn.modules.instancenorm.InstanceNorm2d"));
  CHECK(is_norm_layer_class("__torch__.mymodel.LayerNorm"));
  CHECK_FALSE(is_norm_layer_class("__torch__.torch.nn.modules.conv.Conv2d"));
  CHECK_FALSE(is_norm_layer_class("__torch__.torch.nn.modules.batchnorm.BatchNorm2dFast"));
  CHECK_FALSE(is_norm_layer_class("__torch__.BatchNorm2d.Net"));
  CHECK_FALSE(is_norm_layer_class(""));
}
