#include "runtime/learning/local_training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>

#include <torch/script.h>
#include <catch2/catch.hpp>

#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/accumulator.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/math/rng.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;

namespace fedactor {

// For Catch's messages (<torch/script.h> brings glog's operator<< for std::vector, which
// needs one for the elements).
std::ostream& operator<<(std::ostream& out, const flat_range& r) {
  return out << "[" << r.begin << ", " << r.end << ")";
}

std::ostream& operator<<(std::ostream& out, const buffer_spec& b) {
  return out << b.name << (b.integer ? " (count)" : "");
}

}  // namespace fedactor

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

namespace {

// Two samples with x = 0 (the weights get no data gradient; only the biases see the loss),
// labels 0, trained in two steps of one sample: 1 input, 2 classes, no hidden layer.
// Parameters: W = (w0, w1) (weight [2 × 1]), then b = (b0, b1).
client_dataset zero_inputs() {
  client_dataset d;
  d.features = 1;
  d.x = {0.0f, 0.0f};
  d.y = {0, 0};
  return d;
}

local_train_config two_steps(double mu, const float* correction) {
  local_train_config cfg;
  cfg.batch_size = 1;
  cfg.lr = 0.5;
  cfg.momentum = 0.9;
  cfg.prox_mu = mu;
  cfg.correction = correction;
  return cfg;
}

}  // namespace

TEST_CASE("FedProx adds mu times the drift from the start model to each step's gradient",
          "[learning][algorithms]") {
  // Start W = (1, -1), b = (0.5, -0.5); μ = 0.4, lr 0.5, momentum 0.9. With p(b) =
  // softmax(b)[0] = σ(b0 − b1), the data gradient of the biases for label 0 is
  // (p − 1, 1 − p), the weights' is 0 (x = 0).
  // Step 1: w = w_start, no proximal pull: g1 = (p(b) − 1, 1 − p(b)), buf = g1, b¹ = b − lr·g1.
  // Step 2: g2 = (p(b¹) − 1, 1 − p(b¹)) + μ·(b¹ − b), buf = 0.9·g1 + g2, b² = b¹ − lr·buf.
  // W stays at its start: its gradient and its drift are both 0.
  model_spec spec{1, {}, 2};
  local_trainer t{spec};
  const std::vector<float> start{1.0f, -1.0f, 0.5f, -0.5f};
  auto res = t.train(start, zero_inputs(), two_steps(0.4, nullptr));
  const double lr = 0.5, mu = 0.4;
  auto sigma = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  const double g1 = sigma(1.0) - 1.0;  // class 0; class 1 is −g1
  const double b1 = 0.5 - lr * g1;     // b¹ = (b1, −b1)
  const double g2 = (sigma(2 * b1) - 1.0) + mu * (b1 - 0.5);
  const double b2 = b1 - lr * (0.9 * g1 + g2);
  CHECK(res.params[0] == 1.0f);
  CHECK(res.params[1] == -1.0f);
  CHECK(res.params[2] == Approx(b2).margin(1e-6));
  CHECK(res.params[3] == Approx(-b2).margin(1e-6));
  CHECK(res.steps == 2);
  // The reported loss is the data loss only: −ln p(b), then −ln p(b¹).
  CHECK(res.mean_loss ==
        Approx(-(std::log(sigma(1.0)) + std::log(sigma(2 * b1))) / 2).margin(1e-6));
}

TEST_CASE(
    "a SCAFFOLD correction is subtracted after each optimizer step and momentum does not "
    "carry it",
    "[learning][algorithms]") {
  // Start as above, μ = 0, correction k = (0.1, -0.2, 0.3, -0.4), lr 0.5, momentum 0.9.
  // Each step: buf = g (first) or 0.9·buf + g, w ← w − lr·buf, then w ← w − lr·k.
  // Weights: g = 0 at both steps, so buf stays 0 and only the corrections move them:
  //   W² = W − lr·k_W − lr·k_W = W − k_W = (1 − 0.1, −1 + 0.2) = (0.9, −0.8).
  //   (Were k inside the gradient, momentum would carry it: W − lr·k_W − lr·1.9·k_W =
  //   W − 1.45·k_W = (0.855, −0.71).)
  // Biases: g1 = (p(b) − 1, 1 − p(b)), buf1 = g1, b¹ = b − lr·g1 − lr·k_b;
  //   g2 = (p(b¹) − 1, 1 − p(b¹)), buf2 = 0.9·g1 + g2, b² = b¹ − lr·buf2 − lr·k_b.
  model_spec spec{1, {}, 2};
  local_trainer t{spec};
  const std::vector<float> start{1.0f, -1.0f, 0.5f, -0.5f};
  const std::vector<float> k{0.1f, -0.2f, 0.3f, -0.4f};
  auto res = t.train(start, zero_inputs(), two_steps(0, k.data()));
  const double lr = 0.5;
  auto sigma = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  const double kb0 = double{k[2]}, kb1 = double{k[3]};
  const double g1_0 = sigma(1.0) - 1.0, g1_1 = 1.0 - sigma(1.0);
  const double b1_0 = 0.5 - lr * g1_0 - lr * kb0, b1_1 = -0.5 - lr * g1_1 - lr * kb1;
  const double p1 = sigma(b1_0 - b1_1);
  const double g2_0 = p1 - 1.0, g2_1 = 1.0 - p1;
  CHECK(res.params[0] == Approx(0.9).margin(1e-6));
  CHECK(res.params[1] == Approx(-0.8).margin(1e-6));
  CHECK(res.params[2] == Approx(b1_0 - lr * (0.9 * g1_0 + g2_0) - lr * kb0).margin(1e-6));
  CHECK(res.params[3] == Approx(b1_1 - lr * (0.9 * g1_1 + g2_1) - lr * kb1).margin(1e-6));
  CHECK(res.steps == 2);
}

TEST_CASE(
    "with FedProx and a correction, the proximal gradient sees the corrected model and "
    "momentum carries only it",
    "[learning][algorithms]") {
  // Start as above, μ = 0.4, k = (0.1, -0.2, 0.3, -0.4), lr 0.5, momentum 0.9.
  // Weights (data gradient 0):
  //   step 1: g = μ·(W − W) = 0, buf1 = 0, W¹ = W − lr·k_W = W − 0.5·k_W;
  //   step 2: g = μ·(W¹ − W) = −0.4·0.5·k_W = −0.2·k_W, buf2 = 0.9·0 + g = −0.2·k_W,
  //           W² = W¹ − lr·buf2 − lr·k_W = W − 0.5·k_W + 0.1·k_W − 0.5·k_W = W − 0.9·k_W
  //              = (1 − 0.09, −1 + 0.18) = (0.91, −0.82).
  // Biases: g1 = (p(b) − 1, 1 − p(b)), b¹ = b − lr·g1 − lr·k_b;
  //   g2 = (p(b¹) − 1, 1 − p(b¹)) + μ·(b¹ − b), b² = b¹ − lr·(0.9·g1 + g2) − lr·k_b.
  model_spec spec{1, {}, 2};
  local_trainer t{spec};
  const std::vector<float> start{1.0f, -1.0f, 0.5f, -0.5f};
  const std::vector<float> k{0.1f, -0.2f, 0.3f, -0.4f};
  auto res = t.train(start, zero_inputs(), two_steps(0.4, k.data()));
  const double lr = 0.5, mu = 0.4;
  auto sigma = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  const double kb0 = double{k[2]}, kb1 = double{k[3]};
  const double g1_0 = sigma(1.0) - 1.0, g1_1 = 1.0 - sigma(1.0);
  const double b1_0 = 0.5 - lr * g1_0 - lr * kb0, b1_1 = -0.5 - lr * g1_1 - lr * kb1;
  const double p1 = sigma(b1_0 - b1_1);
  const double g2_0 = p1 - 1.0 + mu * (b1_0 - 0.5), g2_1 = 1.0 - p1 + mu * (b1_1 + 0.5);
  CHECK(res.params[0] == Approx(0.91).margin(1e-6));
  CHECK(res.params[1] == Approx(-0.82).margin(1e-6));
  CHECK(res.params[2] == Approx(b1_0 - lr * (0.9 * g1_0 + g2_0) - lr * kb0).margin(1e-6));
  CHECK(res.params[3] == Approx(b1_1 - lr * (0.9 * g1_1 + g2_1) - lr * kb1).margin(1e-6));
}

TEST_CASE("local training reports its optimizer steps: batches per epoch times epochs",
          "[learning][algorithms]") {
  model_spec spec;
  local_trainer t{spec};
  const auto start = initial_params(spec, 1);
  data_config dc;
  dc.kind = data_kind::teacher;
  dc.min_samples = 70;
  dc.max_samples = 71;
  teacher_source src{dc, 1};
  auto data = src.make(0);
  REQUIRE(data.size() == 70);
  local_train_config cfg;
  cfg.epochs = 3;
  CHECK(t.train(start, data, cfg).steps == 9);  // ceil(70 / 32) = 3 batches, 3 epochs
  cfg.batch_size = 35;
  CHECK(t.train(start, data, cfg).steps == 6);
  cfg.batch_size = 500;
  cfg.epochs = 1;
  CHECK(t.train(start, data, cfg).steps == 1);
}

TEST_CASE("training rejects a negative, non-finite or float-overflowing prox_mu",
          "[learning][algorithms]") {
  model_spec spec;
  local_trainer t{spec};
  const auto start = initial_params(spec, 0);
  data_config dc;
  dc.kind = data_kind::teacher;
  teacher_source src{dc, 1};
  auto data = src.make(0);
  for (double mu : {-0.1, std::nan(""), HUGE_VAL, -HUGE_VAL, 1e39}) {
    INFO("prox_mu " << mu);
    local_train_config cfg;
    cfg.prox_mu = mu;
    CHECK_THROWS_AS(t.train(start, data, cfg), std::invalid_argument);
  }
  local_train_config ok;
  ok.prox_mu = 1e30;
  CHECK_NOTHROW(t.train(start, data, ok));
}

TEST_CASE("prox_mu 0 and no correction give the bits of the default configuration",
          "[learning][algorithms]") {
  data_config dc;
  dc.kind = data_kind::teacher;
  teacher_source src{dc, 3};
  auto data = src.make(1);
  model_spec spec;
  const auto start = initial_params(spec, 4);
  local_trainer t{spec};
  local_train_config plain;
  plain.shuffle_seed = 8;
  plain.epochs = 2;
  local_train_config explicit_none = plain;
  explicit_none.prox_mu = 0;
  explicit_none.correction = nullptr;
  auto a = t.train(start, data, plain);
  auto b = t.train(start, data, explicit_none);
  CHECK(a.params == b.params);
  CHECK(std::memcmp(&a.mean_loss, &b.mean_loss, sizeof(double)) == 0);
  local_train_config with_mu = plain;
  with_mu.prox_mu = 0.5;
  CHECK(t.train(start, data, with_mu).params != a.params);
}

TEST_CASE(
    "the CNN takes the correction on every parameter tensor and FedProx holds it closer "
    "to its start",
    "[learning][algorithms]") {
  auto spec = cnn_spec({1, 28, 28}, 10);
  local_trainer t{spec};
  auto data = banded_images(40, 7);
  const auto start = initial_params(spec, 3);
  // One step (the whole data in one batch), momentum 0: y = (x − lr·g) − lr·k, so the
  // result with a correction k differs from the one without by −lr·k, to float rounding.
  local_train_config one;
  one.batch_size = 64;
  one.momentum = 0;
  one.lr = 0.05;
  std::vector<float> k(spec.num_params());
  rng r{stream_key(5, rng_tag::model_init, 99)};
  for (auto& v : k) v = static_cast<float>(0.1 * r.normal());
  auto plain = t.train(start, data, one);
  one.correction = k.data();
  auto corrected = t.train(start, data, one);
  double worst = 0;
  for (size_t j = 0; j < k.size(); ++j) {
    const double expected = double{plain.params[j]} - 0.05 * double{k[j]};
    worst = std::max(worst, std::fabs(double{corrected.params[j]} - expected));
  }
  CHECK(worst < 1e-6);
  // FedProx over 3 epochs of small batches: the larger μ, the closer to the start.
  local_train_config many;
  many.batch_size = 8;
  many.epochs = 3;
  many.lr = 0.05;
  auto drift = [&](double mu) {
    many.prox_mu = mu;
    auto res = t.train(start, data, many);
    double s = 0;
    for (size_t j = 0; j < start.size(); ++j)
      s += std::pow(double{res.params[j]} - double{start[j]}, 2);
    return std::sqrt(s);
  };
  const double d0 = drift(0), d1 = drift(1), d10 = drift(10);
  CHECK(d1 < d0);
  CHECK(d10 < d1);
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

namespace {

// tests/fixtures/bn_cnn.pt (examples/export_model.py bn_cnn): conv 4@3×3 → BatchNorm2d →
// ReLU → max-pool 2 → fc 10 on 1×28×28. Flat layout: conv.weight [4,1,3,3] at 0, conv.bias
// at 36, bn.weight at 40, bn.bias at 44, fc.weight [10, 676] at 48, fc.bias at 6808; then the
// buffers bn.running_mean at 6818, bn.running_var at 6822, bn.num_batches_tracked at 6826.
constexpr size_t bn_conv_bias = 36;
constexpr size_t bn_fc_weight = 48;
constexpr size_t bn_fc_bias = 6808;
constexpr size_t bn_mean = 6818;
constexpr size_t bn_var = 6822;
constexpr size_t bn_count = 6826;

model_spec bn_cnn_spec() {
  return torchscript_spec(fixture("bn_cnn.pt"), 784, {1, 28, 28}, 10);
}

std::map<std::string, torch::Tensor> buffers_in(const std::string& path) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& b : torch::jit::load(path).named_buffers()) out[b.name] = b.value;
  return out;
}

// Logits of the bn_cnn fixture in evaluation mode when every conv weight is zero: each
// channel c is the constant bias[c], normalised to y_c = (bias[c] − mean[c]) /
// sqrt(var[c] + 1e-5) (BatchNorm weight 1, bias 0), ReLU, pooled: fc sees y_c at all 169
// positions of channel c.
std::vector<double> constant_channel_logits(const std::vector<float>& flat) {
  std::vector<double> out(10);
  for (size_t k = 0; k < 10; ++k) {
    double z = flat[bn_fc_bias + k];
    for (size_t c = 0; c < 4; ++c) {
      const double y = std::max(0.0, (double(flat[bn_conv_bias + c]) - flat[bn_mean + c]) /
                                         std::sqrt(double(flat[bn_var + c]) + 1e-5));
      for (size_t p = 0; p < 169; ++p) z += y * flat[bn_fc_weight + k * 676 + c * 169 + p];
    }
    out[k] = z;
  }
  return out;
}

}  // namespace

TEST_CASE("the BatchNorm CNN fixture federates its running statistics after its parameters",
          "[learning][buffers]") {
  auto spec = bn_cnn_spec();
  CHECK(spec.param_shapes ==
        std::vector<std::vector<int64_t>>{{4, 1, 3, 3}, {4}, {4}, {4}, {10, 676}, {10}});
  CHECK(spec.num_params() == 6818);
  CHECK(spec.buffers == std::vector<buffer_spec>{{"bn.running_mean", {4}, false},
                                                 {"bn.running_var", {4}, false},
                                                 {"bn.num_batches_tracked", {}, true}});
  CHECK(spec.num_buffer_values() == 9);
  CHECK(spec.flat_size() == 6827);
  CHECK(spec.buffer_range() == flat_range{6818, 6827});
  // bn.weight and bn.bias, then the three buffers.
  CHECK(spec.norm_ranges == std::vector<flat_range>{{40, 48}, {6818, 6827}});
  CHECK(spec.unfederated.empty());
  CHECK(spec.unfederated_state().empty());
  CHECK(spec == bn_cnn_spec());

  auto start = initial_params(spec, 0);
  REQUIRE(start.size() == 6827);
  CHECK(start == load_torchscript_params(fixture("bn_cnn.pt")));
  CHECK(extract(spec.norm_ranges, start) ==
        std::vector<float>{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0});
}

TEST_CASE("training one client updates the running statistics and counts its batches",
          "[learning][buffers]") {
  // One batch of 4 images: the running statistics move once, by momentum 0.1, towards the
  // per-channel mean and unbiased variance of the start model's convolution output
  // (4 images × 26 × 26 positions), computed here by hand.
  auto spec = bn_cnn_spec();
  const auto start = initial_params(spec, 0);
  const auto data = banded_images(4, 11);
  local_trainer t{spec};
  local_train_config cfg;
  cfg.lr = 0.05;
  cfg.momentum = 0;
  auto res = t.train(start, data, cfg);
  REQUIRE(res.params.size() == 6827);
  for (size_t c = 0; c < 4; ++c) {
    std::vector<double> z;
    for (size_t n = 0; n < 4; ++n)
      for (size_t i = 0; i < 26; ++i)
        for (size_t j = 0; j < 26; ++j) {
          double v = start[bn_conv_bias + c];
          for (size_t a = 0; a < 3; ++a)
            for (size_t b = 0; b < 3; ++b)
              v += double(start[c * 9 + a * 3 + b]) * data.x[n * 784 + (i + a) * 28 + (j + b)];
          z.push_back(v);
        }
    double mean = 0;
    for (double v : z) mean += v;
    mean /= double(z.size());
    double ss = 0;
    for (double v : z) ss += (v - mean) * (v - mean);
    const double var = ss / double(z.size() - 1);
    CHECK(res.params[bn_mean + c] == Approx(0.1 * mean).margin(1e-5));
    CHECK(res.params[bn_var + c] == Approx(0.9 + 0.1 * var).margin(1e-5));
  }
  CHECK(res.params[bn_count] == 1.0f);

  // 100 samples in batches of 32, two epochs: 4 + 4 batches, added to the start's count.
  cfg.epochs = 2;
  auto counted = start;
  counted[bn_count] = 3;
  CHECK(t.train(start, banded_images(100, 12), cfg).params[bn_count] == 8.0f);
  CHECK(t.train(counted, banded_images(100, 12), cfg).params[bn_count] == 11.0f);
  // A count that is not a number is refused, not loaded.
  counted[bn_count] = std::nanf("");
  CHECK_THROWS_WITH(t.train(counted, data, cfg),
                    Catch::StartsWith("buffer bn.num_batches_tracked holds nan"));
}

TEST_CASE("the sample-weighted mean of two clients' running statistics is what model.pt holds",
          "[learning][buffers]") {
  // A has 30 samples (4 batches of up to 8), B has 10 (2 batches): weights 0.75 and 0.25.
  // Mean count 0.75·4 + 0.25·2 = 3.5, put into the int64 buffer as 4 (halves away from zero).
  auto spec = bn_cnn_spec();
  const auto start = initial_params(spec, 0);
  local_trainer t{spec};
  local_train_config cfg;
  cfg.batch_size = 8;
  cfg.lr = 0.05;
  const auto a = t.train(start, banded_images(30, 21), cfg);
  const auto b = t.train(start, banded_images(10, 22), cfg);
  REQUIRE(a.num_samples == 30);
  REQUIRE(b.num_samples == 10);
  CHECK(a.params[bn_count] == 4.0f);
  CHECK(b.params[bn_count] == 2.0f);
  weighted_accumulator acc{spec.flat_size()};
  REQUIRE(acc.add(b.params.data(), b.num_samples));
  REQUIRE(acc.add(a.params.data(), a.num_samples));
  const auto mean = acc.mean();
  for (size_t i = bn_mean; i < bn_count; ++i) {
    CHECK(mean[i] == Approx(0.75 * a.params[i] + 0.25 * b.params[i]).margin(1e-6));
    CHECK(a.params[i] != b.params[i]);
  }
  CHECK(mean[bn_count] == 3.5f);

  auto path = (std::filesystem::temp_directory_path() / "fedactor_bn_model_test.pt").string();
  save_model_pt(spec, mean, path);
  auto saved = buffers_in(path);
  REQUIRE(saved.size() == 3);
  for (size_t c = 0; c < 4; ++c) {
    CHECK(saved["bn.running_mean"][c].item<float>() == mean[bn_mean + c]);
    CHECK(saved["bn.running_var"][c].item<float>() == mean[bn_var + c]);
  }
  CHECK(saved["bn.num_batches_tracked"].scalar_type() == torch::kInt64);
  CHECK(saved["bn.num_batches_tracked"].item<int64_t>() == 4);
  auto rounded = mean;
  rounded[bn_count] = 4.0f;
  CHECK(load_model_pt(spec, path) == rounded);
  CHECK(load_torchscript_params(path) == rounded);
  std::filesystem::remove(path);
}

TEST_CASE("evaluation normalises with the running statistics of the model vector",
          "[learning][buffers]") {
  // With every conv weight zero the network's output no longer depends on the image, and
  // the logits follow from the biases and the running statistics by hand.
  auto spec = bn_cnn_spec();
  auto defaults = initial_params(spec, 0);  // running mean 0, variance 1
  for (size_t i = 0; i < 36; ++i) defaults[i] = 0;
  for (size_t c = 0; c < 4; ++c) defaults[bn_conv_bias + c] = float(c + 1);
  auto federated = defaults;
  for (size_t c = 0; c < 4; ++c) {
    federated[bn_mean + c] = 0.5f * float(c + 1);
    federated[bn_var + c] = 3.0f;
  }
  const auto data = banded_images(2, 31);
  local_trainer t{spec};
  const auto with_federated = t.logits(federated, data);
  const auto with_defaults = t.logits(defaults, data);
  const auto expect_federated = constant_channel_logits(federated);
  const auto expect_defaults = constant_channel_logits(defaults);
  REQUIRE(with_federated.size() == 20);
  for (size_t n = 0; n < 2; ++n)
    for (size_t k = 0; k < 10; ++k) {
      CHECK(with_federated[n * 10 + k] == Approx(expect_federated[k]).margin(1e-4));
      CHECK(with_defaults[n * 10 + k] == Approx(expect_defaults[k]).margin(1e-4));
    }
  CHECK(with_federated != with_defaults);
  CHECK(t.evaluate(federated, data).loss != t.evaluate(defaults, data).loss);
  // Evaluating leaves nothing behind in the module.
  CHECK(t.logits(federated, data) == with_federated);
}

TEST_CASE("a model with bool and int32 buffers federates the rest and names those in the warning",
          "[learning][buffers]") {
  // tests/fixtures/masked_linear.pt: Linear(4, 3) on (x − shift) · mask, shift a float64
  // buffer (0.25 each, federated as float32), mask a bool buffer {1, 1, 0, 1} and calls an
  // int32 scalar that forward counts up and adds to the logits (both not federated).
  const auto path = fixture("masked_linear.pt");
  auto spec = torchscript_spec(path, 4, {4}, 3);
  CHECK(spec.param_shapes == std::vector<std::vector<int64_t>>{{3, 4}, {3}});
  CHECK(spec.buffers == std::vector<buffer_spec>{{"shift", {4}, false}});
  CHECK(spec.unfederated == std::vector<std::string>{"mask (Bool [4])", "calls (Int [])"});
  CHECK(spec.unfederated_state() ==
        path +
            ": 2 buffers are not federated (every client starts from the file's value, "
            "model.pt keeps it): mask (Bool [4]), calls (Int [])");
  CHECK(spec.norm_ranges.empty());
  CHECK(spec.flat_size() == 19);
  auto flat = initial_params(spec, 0);
  REQUIRE(flat.size() == 19);
  CHECK(std::vector<float>(flat.begin() + 15, flat.end()) == std::vector<float>(4, 0.25f));

  // logits = W · ((x − shift) · mask) + b + calls with the shift of the vector, calls = 1 on
  // the first forward after a load: each load resets calls to the file's 0 (else the second
  // call would add 2).
  for (size_t i = 15; i < 19; ++i) flat[i] = 0.5f;
  client_dataset d;
  d.features = 4;
  d.x = {1, 2, 3, 4};
  d.y = {0};
  local_trainer t{spec};
  auto out = t.logits(flat, d);
  REQUIRE(out.size() == 3);
  const double in[4] = {0.5, 1.5, 0, 3.5};
  CHECK(t.logits(flat, d) == out);
  for (size_t k = 0; k < 3; ++k) {
    double z = flat[12 + k] + 1.0;
    for (size_t j = 0; j < 4; ++j) z += double(flat[k * 4 + j]) * in[j];
    CHECK(out[k] == Approx(z).margin(1e-6));
  }
  // Training returns the shift unchanged (no gradient reaches a buffer).
  auto res = t.train(flat, d, {});
  CHECK(std::vector<float>(res.params.begin() + 15, res.params.end()) ==
        std::vector<float>(4, 0.5f));

  // model.pt: shift in its own precision, mask and calls as in the file.
  auto out_path = (std::filesystem::temp_directory_path() / "fedactor_masked_test.pt").string();
  save_model_pt(spec, flat, out_path);
  auto saved = buffers_in(out_path);
  CHECK(saved["shift"].scalar_type() == torch::kFloat64);
  CHECK(saved["shift"][0].item<double>() == 0.5);
  CHECK(saved["mask"].scalar_type() == torch::kBool);
  CHECK(saved["mask"].to(torch::kInt64).sum().item<int64_t>() == 3);
  CHECK(saved["calls"].item<int32_t>() == 0);
  CHECK(load_model_pt(spec, out_path) == flat);
  std::filesystem::remove(out_path);
}
