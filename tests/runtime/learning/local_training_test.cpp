#include "runtime/learning/local_training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "runtime/learning/synthetic_data.hpp"
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
