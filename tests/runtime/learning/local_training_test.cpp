#include "runtime/learning/local_training.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

TEST_CASE("one SGD step of logistic regression matches the hand-computed update", "[learning]") {
  // 2 features, 2 classes, no hidden layer, zero weights: logits 0, softmax (0.5, 0.5),
  // loss ln 2; for x = (1, 2), y = 0 the logit gradient is (-0.5, 0.5), so with lr 0.1:
  // W = [[0.05, 0.1], [-0.05, -0.1]], b = [0.05, -0.05].
  model_spec spec{2, {}, 2};
  local_trainer t{spec};
  client_dataset d;
  d.features = 2;
  d.x = {1.0f, 2.0f};
  d.y = {0};
  local_train_config cfg;
  cfg.lr = 0.1;
  cfg.momentum = 0;
  auto res = t.train(std::vector<float>(6, 0.0f), d, cfg);
  REQUIRE(res.params.size() == 6);
  CHECK(res.params[0] == Approx(0.05).margin(1e-7));
  CHECK(res.params[1] == Approx(0.1).margin(1e-7));
  CHECK(res.params[2] == Approx(-0.05).margin(1e-7));
  CHECK(res.params[3] == Approx(-0.1).margin(1e-7));
  CHECK(res.params[4] == Approx(0.05).margin(1e-7));
  CHECK(res.params[5] == Approx(-0.05).margin(1e-7));
  CHECK(res.mean_loss == Approx(std::log(2.0)).margin(1e-7));
  CHECK(res.num_samples == 1);
}

TEST_CASE("momentum carries the previous step within one local training", "[learning]") {
  // Two identical samples in two batches of one: step 1 as above; step 2 uses
  // v = 0.9 * g1 + g2. Check the bias of class 0 against a direct computation.
  model_spec spec{1, {}, 2};
  local_trainer t{spec};
  client_dataset d;
  d.features = 1;
  d.x = {0.0f, 0.0f};  // zero input: only biases move
  d.y = {0, 0};
  local_train_config cfg;
  cfg.lr = 0.5;
  cfg.momentum = 0.9;
  cfg.batch_size = 1;
  auto res = t.train(std::vector<float>(4, 0.0f), d, cfg);
  // Step 1: g = (-0.5, 0.5) -> b = (0.25, -0.25).
  // Step 2: p0 = softmax(0.5)[0] = 1/(1+e^-0.5); g2 = (p0 - 1, 1 - p0); v = 0.9*g1 + g2.
  const double p0 = 1.0 / (1.0 + std::exp(-0.5));
  const double v0 = 0.9 * -0.5 + (p0 - 1.0);
  CHECK(res.params[2] == Approx(0.25 - 0.5 * v0).margin(1e-6));
  CHECK(res.params[3] == Approx(-(0.25 - 0.5 * v0)).margin(1e-6));
}

TEST_CASE("local training is deterministic for a given shuffle seed", "[learning]") {
  data_config dc;
  dc.kind = data_kind::teacher;
  teacher_source src{dc, 1};
  auto data = src.make(3);
  model_spec spec;
  auto start = initial_params(spec, 1);
  local_trainer t1{spec}, t2{spec};
  local_train_config cfg;
  cfg.shuffle_seed = 99;
  auto a = t1.train(start, data, cfg);
  auto b = t2.train(start, data, cfg);
  CHECK(a.params == b.params);
  CHECK(a.mean_loss == b.mean_loss);
  cfg.shuffle_seed = 100;
  auto c = t1.train(start, data, cfg);
  CHECK(c.params != a.params);
}

TEST_CASE("training on the teacher task lowers the loss epoch after epoch", "[learning]") {
  data_config dc;
  dc.kind = data_kind::teacher;
  dc.min_samples = 400;
  dc.max_samples = 401;
  teacher_source src{dc, 2};
  auto data = src.make(0);
  model_spec spec;
  local_trainer t{spec};
  auto params = initial_params(spec, 2);
  const double before = t.evaluate(params, data).loss;
  local_train_config cfg;
  cfg.lr = 0.05;
  cfg.epochs = 5;
  params = t.train(params, data, cfg).params;
  const double after = t.evaluate(params, data).loss;
  CHECK(after < 0.8 * before);
}

TEST_CASE("training rejects a wrong-size model or mismatched data with an exception",
          "[learning]") {
  model_spec spec;
  local_trainer t{spec};
  client_dataset d;
  d.features = 32;
  d.x.assign(32, 0.0f);
  d.y = {1};
  CHECK_THROWS_AS(t.train(std::vector<float>(10, 0.0f), d, {}), std::invalid_argument);
  client_dataset wrong = d;
  wrong.features = 16;
  CHECK_THROWS_AS(t.train(initial_params(spec, 0), wrong, {}), std::invalid_argument);
  client_dataset empty;
  empty.features = 32;
  CHECK_THROWS_AS(t.train(initial_params(spec, 0), empty, {}), std::invalid_argument);
}

TEST_CASE("model.pt written by save_model_pt loads back with LibTorch unchanged", "[learning]") {
  model_spec spec{8, {16, 4}, 3};
  auto params = initial_params(spec, 9);
  auto path = (std::filesystem::temp_directory_path() / "fedactor_model_test.pt").string();
  save_model_pt(spec, params, path);
  CHECK(load_model_pt(spec, path) == params);
  std::filesystem::remove(path);
}

namespace {

// Linearly separable, 2 classes: label = (x0 + x1 > 0), |x0 + x1| >= 0.5 (a margin).
client_dataset separable(uint32_t n, uint64_t seed) {
  client_dataset d;
  d.features = 2;
  rng r{seed};
  while (d.size() < n) {
    const float a = static_cast<float>(r.normal());
    const float b = static_cast<float>(r.normal());
    if (std::fabs(a + b) < 0.5f) continue;
    d.x.push_back(a);
    d.x.push_back(b);
    d.y.push_back(a + b > 0 ? 1 : 0);
  }
  return d;
}

// 28×28 images whose class is the brightest of 10 horizontal bands (learnable by a CNN).
client_dataset banded_images(uint32_t n, uint64_t seed) {
  client_dataset d;
  d.features = 784;
  d.shape = {1, 28, 28};
  rng r{seed};
  for (uint32_t k = 0; k < n; ++k) {
    const int64_t label = static_cast<int64_t>(r.below(10));
    for (int row = 0; row < 28; ++row)
      for (int col = 0; col < 28; ++col)
        d.x.push_back(static_cast<float>(0.3 * r.normal() + (row / 3 == label ? 2.0 : 0.0)));
    d.y.push_back(label);
  }
  return d;
}

std::string fixture(const std::string& name) {
  return std::string(FEDACTOR_SOURCE_DIR) + "/tests/fixtures/" + name;
}

}  // namespace

TEST_CASE("evaluation reaches 100 percent accuracy on linearly separable data", "[learning]") {
  model_spec spec{2, {}, 2};
  local_trainer t{spec};
  auto train = separable(400, 1);
  auto test = separable(300, 2);
  auto params = initial_params(spec, 1);
  local_train_config cfg;
  cfg.lr = 0.5;
  cfg.epochs = 30;
  params = t.train(params, train, cfg).params;
  auto ev = t.evaluate(params, test);
  CHECK(ev.samples == 300);
  CHECK(ev.accuracy == 1.0);
  CHECK(ev.loss < 0.1);
  // The same figures whatever the evaluation batch boundaries: 300 samples, one batch.
  auto logits = t.logits(params, test);
  REQUIRE(logits.size() == 600);
  uint32_t correct = 0;
  for (uint32_t k = 0; k < 300; ++k)
    correct += (logits[2 * k + 1] > logits[2 * k]) == (test.y[k] == 1);
  CHECK(correct == 300);
}

TEST_CASE("the CNN gives one row of class logits per image and learns banded images",
          "[learning]") {
  auto spec = cnn_spec({1, 28, 28}, 10);
  local_trainer t{spec};
  auto data = banded_images(400, 3);
  auto params = initial_params(spec, 2);
  auto out = t.logits(params, data);
  CHECK(out.size() == 400 * 10);
  const double before = t.evaluate(params, data).accuracy;
  local_train_config cfg;
  cfg.lr = 0.05;
  cfg.epochs = 10;
  auto res = t.train(params, data, cfg);
  REQUIRE(res.params.size() == 44426);
  const double after = t.evaluate(res.params, banded_images(200, 4)).accuracy;
  CHECK(before < 0.3);
  CHECK(after > 0.9);
}

TEST_CASE("a CNN model.pt loads back with LibTorch unchanged", "[learning]") {
  auto spec = cnn_spec({1, 28, 28}, 10);
  auto params = initial_params(spec, 5);
  auto path = (std::filesystem::temp_directory_path() / "fedactor_cnn_test.pt").string();
  save_model_pt(spec, params, path);
  CHECK(load_model_pt(spec, path) == params);
  std::filesystem::remove(path);
}

TEST_CASE("the TorchScript fixture federates all 12730 parameters in parameters order",
          "[learning]") {
  // tests/fixtures/tiny_mlp.pt: Flatten → Linear(784, 16) → ReLU → Linear(16, 10), exported by
  // examples/export_model.py.
  auto spec = torchscript_spec(fixture("tiny_mlp.pt"), 784, {1, 28, 28}, 10);
  CHECK(spec.param_shapes == std::vector<std::vector<int64_t>>{{16, 784}, {16}, {10, 16}, {10}});
  CHECK(spec.num_params() == 12730);
  auto start = initial_params(spec, 0);
  REQUIRE(start.size() == 12730);
  CHECK(start == initial_params(spec, 99));  // the file's values, not the seed
  CHECK(start == load_torchscript_params(fixture("tiny_mlp.pt")));
  local_trainer t{spec};
  auto data = banded_images(100, 6);
  local_train_config cfg;
  cfg.lr = 0.05;
  auto res = t.train(start, data, cfg);
  REQUIRE(res.params.size() == 12730);
  // Every parameter tensor moved (each has a nonzero gradient on this data).
  const size_t ends[] = {16 * 784, 16 * 784 + 16, 16 * 784 + 16 + 160, 12730};
  size_t begin = 0;
  for (size_t end : ends) {
    bool moved = false;
    for (size_t i = begin; i < end; ++i) moved = moved || res.params[i] != start[i];
    CHECK(moved);
    begin = end;
  }
  // model.pt: the same module with the trained values, read back by torch::jit::load.
  auto path = (std::filesystem::temp_directory_path() / "fedactor_script_test.pt").string();
  save_model_pt(spec, res.params, path);
  CHECK(load_model_pt(spec, path) == res.params);
  CHECK(load_torchscript_params(path) == res.params);
  std::filesystem::remove(path);
}

TEST_CASE("a TorchScript file that is missing, not a module or has the wrong output is named",
          "[learning]") {
  CHECK_THROWS_WITH(torchscript_spec("/nonexistent/m.pt", 784, {784}, 10),
                    "/nonexistent/m.pt: no such TorchScript file");
  auto bad = (std::filesystem::temp_directory_path() / "fedactor_not_a_module.pt").string();
  {
    std::ofstream out(bad);
    out << "not a zip archive";
  }
  CHECK_THROWS_WITH(torchscript_spec(bad, 784, {784}, 10),
                    Catch::StartsWith(bad + ": not a readable TorchScript module"));
  std::filesystem::remove(bad);
  CHECK_THROWS_WITH(torchscript_spec(fixture("tiny_mlp.pt"), 784, {1, 28, 28}, 5),
                    fixture("tiny_mlp.pt") +
                        ": forward on a [1, 1, 28, 28] input gives [1, 10], expected [1, 5]");
  CHECK_THROWS_WITH(
      torchscript_spec(fixture("tiny_mlp.pt"), 60, {60}, 10),
      Catch::StartsWith(fixture("tiny_mlp.pt") + ": forward on a [1, 60] input failed"));
}

TEST_CASE("models without buffers train to the same bytes as before buffers were federated",
          "[learning][buffers]") {
  // SHA-256 of the flat results, recorded with the code before buffers joined the flat vector
  // (commit ba7c979, this LibTorch build, one math thread): the MLP through local_trainer and
  // through the batched kernels (generic code path) and the simple CNN must not change.
  data_config dc;
  dc.kind = data_kind::teacher;
  teacher_source src{dc, 4};
  auto data = src.make(2);
  local_train_config cfg;
  cfg.lr = 0.05;
  cfg.epochs = 2;
  cfg.shuffle_seed = 17;
  model_spec mlp{32, {16, 8}, 10};
  const auto mlp_start = initial_params(mlp, 3);
  local_trainer t{mlp};
  const auto mlp_res = t.train(mlp_start, data, cfg);
  batched_trainer bt{mlp, kernel_isa::generic};
  const auto batched_res = bt.train_one(mlp_start, data, cfg);
  CHECK(model_sha256(mlp_start) ==
        "ba05f5ce7d7601700bd2fffeba5f8dbb881a736c335ffb611bc3673809565bcd");
  CHECK(model_sha256(mlp_res.params) ==
        "ec619a772a3f8048b5a12729d465404e48f0ef67db47b094d9c34b46d2127243");
  CHECK(model_sha256(batched_res.params) ==
        "bd0f3b4cd99f2e6a84d1f8e2a6366967e6ce8b0f3bf1d33cf9a13b067acceb67");

  auto cnn = cnn_spec({1, 28, 28}, 10);
  const auto cnn_start = initial_params(cnn, 3);
  local_trainer ct{cnn};
  const auto cnn_res = ct.train(cnn_start, banded_images(50, 8), cfg);
  CHECK(model_sha256(cnn_start) ==
        "a4f58088d314bc975d2c673140378fb53b64814322b9fa4e8304b07ef96dc6f5");
  CHECK(model_sha256(cnn_res.params) ==
        "b4b96c097dc97608cd37da93cb81480a5db48807f6d92d0ff67e6564b2423115");
  CHECK(model_sha256(ct.logits(cnn_res.params, banded_images(30, 9))) ==
        "d193df01cd1e2326290c587ce5e208a605fa6586b0b13d53f332e0a9914c612f");
}
