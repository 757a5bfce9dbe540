#include "runtime/learning/local_training.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "runtime/learning/synthetic_data.hpp"

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
