// Tests for runtime/strategy/scaffold: the control-variate arithmetic with hand-computed
// values, SCAFFOLD's first round with zero control variates equal to FedAvg's through both
// trainers, and what option II measures after plain and momentum steps.

#include "runtime/strategy/scaffold.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

bool same_bits(const local_train_result& a, const local_train_result& b) {
  return a.params.size() == b.params.size() &&
         std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)) == 0 &&
         std::memcmp(&a.mean_loss, &b.mean_loss, sizeof(double)) == 0 &&
         a.num_samples == b.num_samples && a.steps == b.steps;
}

}  // namespace

TEST_CASE("the correction is c minus c_i and the delta is c_i new minus c_i", "[scaffold]") {
  // (0.5 − 0.25, −1 − 0.5, 0 − 0) = (0.25, −1.5, 0); (1.25 − 0.5, −2.5 + 1) = (0.75, −1.5)
  CHECK(control_correction({0.5f, -1.0f, 0.0f}, {0.25f, 0.5f, 0.0f}) ==
        std::vector<float>{0.25f, -1.5f, 0.0f});
  CHECK(control_delta({1.25f, -2.5f}, {0.5f, -1.0f}) == std::vector<float>{0.75f, -1.5f});
  CHECK_THROWS_AS(control_correction({1.0f}, {1.0f, 2.0f}), std::invalid_argument);
  CHECK_THROWS_AS(control_delta({1.0f, 2.0f}, {1.0f}), std::invalid_argument);
}

TEST_CASE("option II's control update matches the hand computation", "[scaffold]") {
  // c_i = (0.5, −1), c = (0.25, 0.5), x = (1, 2), y = (0.5, 2.5), K = 4, η_l = 0.125:
  // K·η_l = 0.5, (x − y)/(K·η_l) = (1, −1), c_i⁺ = (0.5 − 0.25 + 1, −1 − 0.5 − 1) = (1.25, −2.5).
  CHECK(control_update({0.5f, -1.0f}, {0.25f, 0.5f}, {1.0f, 2.0f}, {0.5f, 2.5f}, 4, 0.125) ==
        std::vector<float>{1.25f, -2.5f});
  // Zero control variates and no movement: c_i⁺ = 0.
  CHECK(control_update({0.0f}, {0.0f}, {0.7f}, {0.7f}, 3, 0.01) == std::vector<float>{0.0f});
}

TEST_CASE("the control update is computed in double and rounded once", "[scaffold]") {
  // c_i = 1, c = −2⁻²⁴, x = 1, y = 1 − 2⁻²⁴ (all floats), K = 1, η_l = 1:
  // exactly, c_i − c + (x − y) = 1 + 2⁻²⁴ + 2⁻²⁴ = 1 + 2⁻²³, a float. In float arithmetic
  // step by step, 1 + 2⁻²⁴ rounds to 1 (a tie, to even) twice and the result would be 1.
  const float tiny = std::ldexp(1.0f, -24);
  const auto out = control_update({1.0f}, {-tiny}, {1.0f}, {1.0f - tiny}, 1, 1.0);
  REQUIRE(out.size() == 1);
  CHECK(out[0] == 1.0f + 2 * tiny);
  // x = 1, y = 0.97f = 0.9700000286102294921875, K = 3, η_l = 0.01, c_i − c = 0.1f:
  // 0.0299999713897705078125 / 0.03 + 0.100000001490116119384765625 = 1.09999904781579971…,
  // stored as the float 1.09999907016754150390625.
  CHECK(control_update({0.1f}, {0.0f}, {1.0f}, {0.97f}, 3, 0.01)[0] == 1.09999907016754150390625f);
}

TEST_CASE("the control update rejects mismatched sizes, zero steps and a bad learning rate",
          "[scaffold]") {
  const std::vector<float> one{1.0f}, two{1.0f, 2.0f};
  CHECK_THROWS_AS(control_update(one, two, one, one, 1, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(control_update(one, one, two, one, 1, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(control_update(one, one, one, two, 1, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(control_update(one, one, one, one, 0, 0.1), std::invalid_argument);
  for (double lr : {0.0, -0.1, std::nan(""), HUGE_VAL})
    CHECK_THROWS_AS(control_update(one, one, one, one, 1, lr), std::invalid_argument);
}

TEST_CASE("the server control step adds the sampled share of the mean delta", "[scaffold]") {
  // c = (1, −2), mean Δc = (0.5, 4), |S| = 10 of N = 40: c + 0.25·Δc = (1.125, −1).
  std::vector<float> c{1.0f, -2.0f};
  server_control_step(c, {0.5f, 4.0f}, 10, 40);
  CHECK(c == std::vector<float>{1.125f, -1.0f});
  // Every client sampled: c + mean Δc.
  server_control_step(c, {-0.125f, 1.0f}, 7, 7);
  CHECK(c == std::vector<float>{1.0f, 0.0f});
  CHECK_THROWS_AS(server_control_step(c, {1.0f}, 1, 2), std::invalid_argument);
  CHECK_THROWS_AS(server_control_step(c, {1.0f, 1.0f}, 0, 2), std::invalid_argument);
  CHECK_THROWS_AS(server_control_step(c, {1.0f, 1.0f}, 3, 2), std::invalid_argument);
  CHECK(c == std::vector<float>{1.0f, 0.0f});  // unchanged by the rejected calls
}

TEST_CASE("with zero control variates the first round's client update is FedAvg's, bit for bit",
          "[scaffold]") {
  // c = c_i = 0: the correction c − c_i is a buffer of zeros, which must give the bits of no
  // correction at all, through LibTorch and through the batched kernels (every code path).
  model_spec spec;
  const auto start = initial_params(spec, 2);
  const std::vector<float> zeros(spec.num_params(), 0.0f);
  const auto correction = control_correction(zeros, zeros);
  tutorial_random_source src{data_config{}, 4};
  local_trainer torch{spec};
  batched_trainer generic{spec, kernel_isa::generic};
  batched_trainer best{spec};
  for (uint64_t id = 0; id < 6; ++id) {
    INFO("client " << id);
    auto data = src.make(id);
    local_train_config fedavg;
    fedavg.shuffle_seed = stream_key(4, rng_tag::shuffle, id);
    fedavg.epochs = 1 + id % 2;
    fedavg.momentum = id % 3 == 0 ? 0.0 : 0.9;
    local_train_config scaffold = fedavg;
    scaffold.correction = correction.data();
    CHECK(same_bits(torch.train(start, data, scaffold), torch.train(start, data, fedavg)));
    const auto plain = generic.train_one(start, data, fedavg);
    CHECK(same_bits(generic.train_one(start, data, scaffold), plain));
    CHECK(same_bits(best.train_one(start, data, scaffold), plain));
  }
}

TEST_CASE("with momentum 0 option II recovers the mean raw gradient whatever the correction",
          "[scaffold]") {
  // One step on the whole data (K = 1), plain SGD: y = x − η·(g(x) + c − c_i), so
  // c_i⁺ = c_i − c + (x − y)/η = g(x), the full-batch gradient at x, for any c and c_i
  // (to float rounding: of y, |x|·2⁻²⁴/η ≈ 1e-7 here; LibTorch's g differs from the kernels'
  // by about 1e-6). The reference g: the same formula with c = c_i = 0.
  model_spec spec{4, {5}, 3};
  const auto x = initial_params(spec, 6);
  client_dataset data;
  data.features = 4;
  rng r{stream_key(3, rng_tag::client_data, 1)};
  for (int k = 0; k < 24; ++k) {
    for (int f = 0; f < 4; ++f) data.x.push_back(static_cast<float>(r.normal()));
    data.y.push_back(static_cast<int64_t>(r.below(3)));
  }
  local_train_config cfg;
  cfg.batch_size = 24;
  cfg.momentum = 0;
  cfg.lr = 0.5;
  std::vector<float> c(spec.num_params()), c_i(spec.num_params());
  for (size_t j = 0; j < c.size(); ++j) {
    c[j] = static_cast<float>(0.1 * r.normal());
    c_i[j] = static_cast<float>(0.1 * r.normal());
  }
  const std::vector<float> zeros(spec.num_params(), 0.0f);
  local_trainer torch{spec};
  batched_trainer batched{spec};
  auto plain = batched.train_one(x, data, cfg);
  REQUIRE(plain.steps == 1);
  const auto g = control_update(zeros, zeros, x, plain.params, plain.steps, cfg.lr);
  const auto correction = control_correction(c, c_i);
  cfg.correction = correction.data();
  for (const auto& y : {batched.train_one(x, data, cfg).params, torch.train(x, data, cfg).params}) {
    const auto c_new = control_update(c_i, c, x, y, 1, cfg.lr);
    for (size_t j = 0; j < g.size(); ++j) CHECK(c_new[j] == Approx(g[j]).margin(1e-5));
  }
}

TEST_CASE(
    "with momentum option II measures the momentum-amplified data steps and exactly K "
    "corrections",
    "[scaffold]") {
  // 1 input, 2 classes, no hidden layer; two samples with x = 0 and label 0, batch 1: K = 2
  // steps, lr η = 0.5, momentum m = 0.9, so K·η = 1. Start x = W (1, −1), b (0.5, −0.5).
  // c = (0.125, −0.25, 0.5, −0.5), c_i = (0, 0, 0.25, −0.125): k = c − c_i =
  // (0.125, −0.25, 0.25, −0.375), every value exact in float.
  // Weights: the data gradient is 0 (x = 0), buf stays 0, only the corrections move them:
  //   y_W = W − 2·η·k_W = (1 − 0.125, −1 + 0.25) = (0.875, −0.75), exact in float;
  //   c_i⁺_W = (c_i − c) + (x − y)/(K·η) = −k_W + k_W = 0 exactly.
  //   (Were k carried by momentum, x − y = η·(1 + 1.9)·k_W and c_i⁺_W = 0.45·k_W.)
  // Biases: d(b) = (p(b) − 1, 1 − p(b)) with p(b) = σ(b0 − b1); g1 = d(b), b¹ = b − η·g1 − η·k_b,
  //   g2 = d(b¹); x − y = η·(g1 + (0.9·g1 + g2)) + 2·η·k_b, so
  //   c_i⁺_b = −k_b + (1.9·g1 + g2)/2 + k_b = (a_1·g1 + a_2·g2)/K with a_1 = 1 + m, a_2 = 1.
  model_spec spec{1, {}, 2};
  client_dataset data;
  data.features = 1;
  data.x = {0.0f, 0.0f};
  data.y = {0, 0};
  const std::vector<float> x{1.0f, -1.0f, 0.5f, -0.5f};
  const std::vector<float> c{0.125f, -0.25f, 0.5f, -0.5f};
  const std::vector<float> c_i{0.0f, 0.0f, 0.25f, -0.125f};
  const auto k = control_correction(c, c_i);
  REQUIRE(k == std::vector<float>{0.125f, -0.25f, 0.25f, -0.375f});
  local_train_config cfg;
  cfg.batch_size = 1;
  cfg.lr = 0.5;
  cfg.momentum = 0.9;
  cfg.correction = k.data();
  auto sigma = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  const double g1 = sigma(1.0) - 1.0;  // class 0; class 1 is −g1
  const double b1_0 = 0.5 - 0.5 * g1 - 0.5 * 0.25, b1_1 = -0.5 + 0.5 * g1 + 0.5 * 0.375;
  const double g2 = sigma(b1_0 - b1_1) - 1.0;
  const double expected_b0 = (1.9 * g1 + g2) / 2;
  local_trainer torch{spec};
  batched_trainer batched{spec};
  for (const auto& res : {torch.train(x, data, cfg), batched.train_one(x, data, cfg)}) {
    REQUIRE(res.steps == 2);
    CHECK(res.params[0] == 0.875f);
    CHECK(res.params[1] == -0.75f);
    const auto c_new = control_update(c_i, c, x, res.params, res.steps, cfg.lr);
    CHECK(c_new[0] == 0.0f);
    CHECK(c_new[1] == 0.0f);
    CHECK(c_new[2] == Approx(expected_b0).margin(1e-6));
    CHECK(c_new[3] == Approx(-expected_b0).margin(1e-6));
  }
}
