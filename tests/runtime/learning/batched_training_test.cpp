// Tests for runtime/learning/batched_training: batched MLP training against per-client
// LibTorch training, and bit-identity whatever the batch composition and code path.

#include "runtime/learning/batched_training.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

// A client with exactly n samples of the given width and class count.
client_dataset make_client(uint64_t id, uint32_t n, uint32_t features, uint32_t classes) {
  client_dataset d;
  d.features = features;
  d.x.resize(size_t{n} * features);
  d.y.resize(n);
  rng r{stream_key(77, rng_tag::client_data, id)};
  for (auto& v : d.x) v = static_cast<float>(r.normal());
  for (auto& v : d.y) v = static_cast<int64_t>(r.below(classes));
  return d;
}

local_train_config config(uint64_t seed, uint32_t batch = 32, uint32_t epochs = 1,
                          double momentum = 0.9) {
  local_train_config cfg;
  cfg.epochs = epochs;
  cfg.batch_size = batch;
  cfg.lr = 0.01;
  cfg.momentum = momentum;
  cfg.shuffle_seed = seed;
  return cfg;
}

// Largest |a - b| / |b| over the parameters, where |b| > floor (the rest: |a - b| / floor).
double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b,
                               double floor = 1e-3) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    worst = std::max(worst, d / std::max(std::fabs(double(b[i])), floor));
  }
  return worst;
}

bool same_bits(const local_train_result& a, const local_train_result& b) {
  return a.params.size() == b.params.size() &&
         std::memcmp(a.params.data(), b.params.data(), a.params.size() * sizeof(float)) == 0 &&
         std::memcmp(&a.mean_loss, &b.mean_loss, sizeof(double)) == 0 &&
         a.num_samples == b.num_samples;
}

}  // namespace

TEST_CASE("batched training equals per-client LibTorch training within 1e-5 relative",
          "[learning]") {
  model_spec spec;  // the tutorial's MLP 32-64-10
  const auto start = initial_params(spec, 3);
  // Uneven sample counts: one sample, a partial batch only, whole batches only, whole
  // batches plus a partial one, the tutorial's extremes.
  const std::vector<uint32_t> sizes{1, 20, 64, 70, 50, 199, 128, 97};
  std::vector<client_dataset> data;
  for (size_t i = 0; i < sizes.size(); ++i) data.push_back(make_client(i, sizes[i], 32, 10));
  std::vector<local_train_config> cfgs;
  for (size_t i = 0; i < sizes.size(); ++i) cfgs.push_back(config(1000 + i));
  std::vector<batched_job> jobs;
  for (size_t i = 0; i < sizes.size(); ++i) jobs.push_back({&start, &data[i], cfgs[i]});

  batched_trainer batched{spec};
  auto out = batched.train(jobs);
  REQUIRE(out.size() == sizes.size());
  local_trainer torch{spec};
  for (size_t i = 0; i < sizes.size(); ++i) {
    INFO("client with " << sizes[i] << " samples");
    REQUIRE(out[i].ok());
    auto ref = torch.train(start, data[i], cfgs[i]);
    CHECK(out[i].result.num_samples == sizes[i]);
    CHECK(max_relative_difference(out[i].result.params, ref.params) < 1e-5);
    CHECK(out[i].result.mean_loss == Approx(ref.mean_loss).epsilon(1e-5));
    CHECK(out[i].result.params != start);
  }
}

TEST_CASE("batched training matches LibTorch over several epochs, small batches, no momentum",
          "[learning]") {
  model_spec spec;
  const auto start = initial_params(spec, 4);
  auto data = make_client(1, 90, 32, 10);
  batched_trainer batched{spec};
  local_trainer torch{spec};
  for (auto cfg : {config(5, 8, 3, 0.9), config(6, 32, 2, 0.0), config(7, 200, 1, 0.5)}) {
    INFO("batch " << cfg.batch_size << ", epochs " << cfg.epochs << ", momentum " << cfg.momentum);
    auto a = batched.train_one(start, data, cfg);
    auto b = torch.train(start, data, cfg);
    CHECK(max_relative_difference(a.params, b.params) < 1e-5);
    CHECK(a.mean_loss == Approx(b.mean_loss).epsilon(1e-5));
  }
}

TEST_CASE("batched training matches LibTorch for deeper MLPs with widths off the vector size",
          "[learning]") {
  model_spec spec{7, {13, 5}, 3};
  const auto start = initial_params(spec, 9);
  auto data = make_client(2, 45, 7, 3);
  batched_trainer batched{spec};
  local_trainer torch{spec};
  auto cfg = config(11, 16, 2, 0.9);
  auto a = batched.train_one(start, data, cfg);
  auto b = torch.train(start, data, cfg);
  CHECK(max_relative_difference(a.params, b.params) < 1e-5);

  model_spec linear{2, {}, 2};  // no hidden layer: logistic regression
  auto lstart = initial_params(linear, 2);
  auto ldata = make_client(3, 33, 2, 2);
  batched_trainer lb{linear};
  local_trainer lt{linear};
  auto la = lb.train_one(lstart, ldata, cfg);
  auto lr = lt.train(lstart, ldata, cfg);
  CHECK(max_relative_difference(la.params, lr.params) < 1e-5);
}

TEST_CASE("one SGD step with momentum over a partial last batch matches the hand computation",
          "[learning]") {
  // One input, two classes, no hidden layer, zero weights; three samples with x = 0 (only
  // the biases move) and batch size 2: batch 1 has two samples, batch 2 one.
  // Step 1: softmax (1/2, 1/2), both labels 0: g = (-1/2, 1/2), buf = g, b = -lr·g.
  // Step 2: one sample, label 0, p0 = σ(b0 - b1): g2 = (p0 - 1, 1 - p0), buf = m·g1 + g2.
  model_spec spec{1, {}, 2};
  client_dataset d;
  d.features = 1;
  d.x = {0.0f, 0.0f, 0.0f};
  d.y = {0, 0, 0};
  local_train_config cfg;
  cfg.batch_size = 2;
  cfg.lr = 0.5;
  cfg.momentum = 0.9;
  batched_trainer t{spec};
  auto res = t.train_one(std::vector<float>(4, 0.0f), d, cfg);
  const double b0 = 0.25;  // -0.5 · -0.5
  const double p0 = 1.0 / (1.0 + std::exp(-2 * b0));
  const double v0 = 0.9 * -0.5 + (p0 - 1.0);
  CHECK(res.params[0] == 0.0f);  // weights see only zero inputs
  CHECK(res.params[1] == 0.0f);
  CHECK(res.params[2] == Approx(b0 - 0.5 * v0).margin(1e-6));
  CHECK(res.params[3] == Approx(-(b0 - 0.5 * v0)).margin(1e-6));
  // Mean loss: ln 2 for batch 1, -ln p0 for batch 2.
  CHECK(res.mean_loss == Approx((std::log(2.0) - std::log(p0)) / 2).margin(1e-6));
}

TEST_CASE("a client's batched result is bit-identical whatever clients share its batch",
          "[learning]") {
  model_spec spec;
  const auto start = initial_params(spec, 1);
  tutorial_random_source src{data_config{}, 8};
  std::vector<client_dataset> data;
  for (uint64_t id = 0; id < 60; ++id) data.push_back(src.make(id));
  std::vector<local_train_config> cfgs;
  for (uint64_t id = 0; id < 60; ++id) cfgs.push_back(config(stream_key(8, rng_tag::shuffle, id)));
  auto job = [&](size_t id) { return batched_job{&start, &data[id], cfgs[id]}; };

  batched_trainer alone_trainer{spec};
  const size_t probe = 7;
  const auto alone = alone_trainer.train({job(probe)}).at(0).result;

  // Batches of 1, 2, 5, 17 and 60 jobs, the probe at different places, with different
  // company, each through a fresh trainer and through one reused after other work.
  batched_trainer reused{spec};
  reused.train({job(3), job(40)});
  std::vector<std::vector<size_t>> compositions{
      {probe}, {probe, 3}, {12, 33, probe, 2, 59}, {}, {}};
  for (size_t i = 0; i < 17; ++i) compositions[3].push_back((i * 7 + 1) % 60);
  compositions[3][9] = probe;
  for (size_t i = 0; i < 60; ++i) compositions[4].push_back(59 - i);
  for (const auto& comp : compositions) {
    INFO("batch of " << comp.size());
    std::vector<batched_job> jobs;
    size_t at = 0;
    for (size_t i = 0; i < comp.size(); ++i) {
      jobs.push_back(job(comp[i]));
      if (comp[i] == probe) at = i;
    }
    batched_trainer fresh{spec};
    CHECK(same_bits(fresh.train(jobs).at(at).result, alone));
    CHECK(same_bits(reused.train(jobs).at(at).result, alone));
  }
  // A different start model in the same batch (the cached start conversion must not leak).
  auto other_start = initial_params(spec, 2);
  std::vector<batched_job> mixed{batched_job{&other_start, &data[1], cfgs[1]}, job(probe),
                                 batched_job{&other_start, &data[2], cfgs[2]}};
  CHECK(same_bits(reused.train(mixed).at(1).result, alone));
  CHECK(same_bits(reused.train_one(start, data[probe], cfgs[probe]), alone));
}

TEST_CASE("every kernel code path gives the same bits", "[learning]") {
  model_spec spec;
  const auto start = initial_params(spec, 5);
  tutorial_random_source src{data_config{}, 5};
  batched_trainer generic{spec, kernel_isa::generic};
  batched_trainer avx2{spec, kernel_isa::avx2};
  batched_trainer best{spec};
  CHECK(generic.isa() == kernel_isa::generic);
  for (uint64_t id = 0; id < 10; ++id) {
    auto d = src.make(id);
    auto cfg = config(id);
    auto a = generic.train_one(start, d, cfg);
    CHECK(same_bits(a, avx2.train_one(start, d, cfg)));
    CHECK(same_bits(a, best.train_one(start, d, cfg)));
  }
  model_spec odd{7, {13, 5}, 3};
  batched_trainer og{odd, kernel_isa::generic}, ob{odd};
  auto ostart = initial_params(odd, 1);
  auto od = make_client(5, 41, 7, 3);
  CHECK(same_bits(og.train_one(ostart, od, config(3, 16, 2)),
                  ob.train_one(ostart, od, config(3, 16, 2))));
}

TEST_CASE("a bad job gets an error and the other jobs train as usual", "[learning]") {
  model_spec spec;
  const auto start = initial_params(spec, 1);
  const std::vector<float> short_model(10, 0.0f);
  auto good = make_client(1, 60, 32, 10);
  auto narrow = make_client(2, 60, 16, 10);
  client_dataset empty;
  empty.features = 32;
  auto bad_label = make_client(3, 40, 32, 10);
  bad_label.y[5] = 10;
  const auto cfg = config(1);
  auto zero_batch = config(1, 0);
  batched_trainer t{spec};
  auto out = t.train({{&start, &good, cfg},
                      {&short_model, &good, cfg},
                      {&start, &narrow, cfg},
                      {&start, &empty, cfg},
                      {&start, &bad_label, cfg},
                      {&start, &good, zero_batch},
                      {nullptr, &good, cfg},
                      {&start, &good, cfg}});
  REQUIRE(out.size() == 8);
  CHECK(out[0].ok());
  CHECK(out[1].error == "start model has 10 parameters, expected 2762");
  CHECK(out[2].error == "dataset has 16 features, model expects 32");
  CHECK(out[3].error == "client has no samples");
  CHECK(out[4].error == "label 10 outside [0, 10)");
  CHECK(out[5].error == "empty training");
  CHECK_FALSE(out[6].ok());
  REQUIRE(out[7].ok());
  CHECK(same_bits(out[0].result, out[7].result));
  CHECK_THROWS_AS(t.train_one(short_model, good, cfg), std::invalid_argument);
}

TEST_CASE("batched training supports MLPs only", "[learning]") {
  CHECK(batched_trainer::supports(model_spec{}));
  CHECK(batched_trainer::supports(model_spec{2, {}, 2}));
  auto cnn = cnn_spec({1, 16, 16}, 10);
  CHECK_FALSE(batched_trainer::supports(cnn));
  CHECK_THROWS_AS(batched_trainer{cnn}, std::invalid_argument);
  CHECK_FALSE(batched_trainer::supports(model_spec{32, {0}, 10}));
}

namespace {

// FNV-1a over the bytes of every result's parameters and mean loss.
uint64_t fnv1a(uint64_t h, const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

uint64_t digest(const std::vector<local_train_result>& results) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& r : results) {
    h = fnv1a(h, r.params.data(), r.params.size() * sizeof(float));
    h = fnv1a(h, &r.mean_loss, sizeof(r.mean_loss));
  }
  return h;
}

// Default-config training of a fixed set of clients (uneven sizes, partial batches, several
// epochs, momentum 0 and 0.9, an MLP with widths off the vector size).
std::vector<local_train_result> pinned_runs(batched_trainer& tutorial, batched_trainer& odd) {
  std::vector<local_train_result> out;
  const auto start = initial_params(tutorial.spec(), 3);
  const std::vector<uint32_t> sizes{1, 20, 64, 70, 50, 199, 128, 97};
  for (size_t i = 0; i < sizes.size(); ++i)
    out.push_back(tutorial.train_one(start, make_client(i, sizes[i], 32, 10), config(1000 + i)));
  auto data = make_client(1, 90, 32, 10);
  for (auto cfg : {config(5, 8, 3, 0.9), config(6, 32, 2, 0.0), config(7, 200, 1, 0.5)})
    out.push_back(tutorial.train_one(start, data, cfg));
  const auto ostart = initial_params(odd.spec(), 9);
  out.push_back(odd.train_one(ostart, make_client(2, 45, 7, 3), config(11, 16, 2, 0.9)));
  return out;
}

}  // namespace

TEST_CASE("default batched training gives the bits pinned before client algorithms existed",
          "[learning]") {
  // The digest was computed with the kernels before prox_mu and correction were added
  // (commit ba7c979); the default configuration must keep giving exactly these bits on
  // every code path.
  constexpr uint64_t pinned = 0x7dd1e7826f717686;
  for (auto isa : {kernel_isa::generic, kernel_isa::avx2, best_kernel_isa()}) {
    INFO("code path " << to_string(isa));
    batched_trainer tutorial{model_spec{}, isa};
    batched_trainer odd{model_spec{7, {13, 5}, 3}, isa};
    CHECK(digest(pinned_runs(tutorial, odd)) == pinned);
  }
}

namespace {

// Seeded values of size n, normal with the given scale (a stand-in for c − c_i).
std::vector<float> correction_values(size_t n, uint64_t seed, double scale) {
  std::vector<float> out(n);
  rng r{stream_key(seed, rng_tag::model_init, 17)};
  for (auto& v : out) v = static_cast<float>(scale * r.normal());
  return out;
}

local_train_config with_algorithms(local_train_config cfg, double mu, const float* correction) {
  cfg.prox_mu = mu;
  cfg.correction = correction;
  return cfg;
}

}  // namespace

TEST_CASE("batched FedProx and SCAFFOLD steps equal LibTorch's within 1e-5 relative",
          "[learning][algorithms]") {
  model_spec spec;
  const auto start = initial_params(spec, 3);
  const auto k = correction_values(spec.num_params(), 1, 0.05);
  const std::vector<uint32_t> sizes{1, 20, 64, 70, 50, 199, 128, 97};
  batched_trainer batched{spec};
  local_trainer torch{spec};
  struct variant {
    double mu;
    const float* correction;
    uint32_t batch, epochs;
    double momentum;
  };
  for (auto v : {variant{0.01, nullptr, 32, 1, 0.9}, variant{0.1, nullptr, 16, 3, 0.9},
                 variant{1.0, nullptr, 32, 2, 0.0}, variant{0, k.data(), 32, 1, 0.9},
                 variant{0, k.data(), 8, 2, 0.0}, variant{0.1, k.data(), 32, 2, 0.9}}) {
    INFO("mu " << v.mu << (v.correction ? ", corrected" : "") << ", batch " << v.batch
               << ", epochs " << v.epochs << ", momentum " << v.momentum);
    std::vector<client_dataset> data;
    std::vector<local_train_config> cfgs;
    std::vector<batched_job> jobs;
    for (size_t i = 0; i < sizes.size(); ++i) {
      data.push_back(make_client(i, sizes[i], 32, 10));
      cfgs.push_back(
          with_algorithms(config(1000 + i, v.batch, v.epochs, v.momentum), v.mu, v.correction));
    }
    for (size_t i = 0; i < sizes.size(); ++i) jobs.push_back({&start, &data[i], cfgs[i]});
    auto out = batched.train(jobs);
    for (size_t i = 0; i < sizes.size(); ++i) {
      INFO("client with " << sizes[i] << " samples");
      REQUIRE(out[i].ok());
      auto ref = torch.train(start, data[i], cfgs[i]);
      CHECK(max_relative_difference(out[i].result.params, ref.params) < 1e-5);
      CHECK(out[i].result.mean_loss == Approx(ref.mean_loss).epsilon(1e-5));
      CHECK(out[i].result.steps == ref.steps);
      // The algorithm changed the result (a one-sample client's single step has no drift).
      auto plain =
          batched.train_one(start, data[i], config(1000 + i, v.batch, v.epochs, v.momentum));
      if (v.correction || ref.steps > 1) CHECK(out[i].result.params != plain.params);
    }
  }
  // Deeper, with widths off the vector size (padding must stay zero).
  model_spec odd{7, {13, 5}, 3};
  const auto ostart = initial_params(odd, 9);
  const auto ok = correction_values(odd.num_params(), 2, 0.05);
  auto od = make_client(2, 45, 7, 3);
  auto cfg = with_algorithms(config(11, 16, 2, 0.9), 0.3, ok.data());
  batched_trainer ob{odd};
  local_trainer ot{odd};
  CHECK(max_relative_difference(ob.train_one(ostart, od, cfg).params,
                                ot.train(ostart, od, cfg).params) < 1e-5);
}

TEST_CASE("batched FedProx and correction steps match the hand computation",
          "[learning][algorithms]") {
  // As in local_training_test: 1 input, 2 classes, x = 0, two steps of one sample with
  // label 0, start W = (1, -1), b = (0.5, -0.5), lr 0.5, momentum 0.9, p(b) = σ(b0 − b1),
  // data gradient of the biases d(b) = (p(b) − 1, 1 − p(b)), of the weights 0. Each step:
  // buf = g (first) or 0.9·buf + g with g = d + μ·(w − w_start); w ← w − lr·buf; then
  // w ← w − lr·k when corrected.
  // FedProx μ = 0.4: b¹ = b − lr·g1 with g1 = d(b); g2 = d(b¹) + μ·(b¹ − b);
  //   b² = b¹ − lr·(0.9·g1 + g2); W unchanged.
  // Correction k = (0.1, -0.2, 0.3, -0.4), μ = 0: W's buf stays 0, W² = W − 2·lr·k_W =
  //   (0.9, −0.8) (momentum does not carry k; it would give (0.855, −0.71));
  //   b¹ = b − lr·g1 − lr·k_b, b² = b¹ − lr·(0.9·g1 + d(b¹)) − lr·k_b.
  // Both: W¹ = W − 0.5·k_W, step 2's g = μ·(W¹ − W) = −0.2·k_W = buf2, W² = W¹ + 0.1·k_W −
  //   0.5·k_W = W − 0.9·k_W = (0.91, −0.82); b¹ as with k alone,
  //   b² = b¹ − lr·(0.9·g1 + d(b¹) + μ·(b¹ − b)) − lr·k_b.
  model_spec spec{1, {}, 2};
  client_dataset d;
  d.features = 1;
  d.x = {0.0f, 0.0f};
  d.y = {0, 0};
  const std::vector<float> start{1.0f, -1.0f, 0.5f, -0.5f};
  local_train_config cfg;
  cfg.batch_size = 1;
  cfg.lr = 0.5;
  cfg.momentum = 0.9;
  auto sigma = [](double z) { return 1.0 / (1.0 + std::exp(-z)); };
  batched_trainer t{spec};

  cfg.prox_mu = 0.4;
  auto prox = t.train_one(start, d, cfg);
  const double g1 = sigma(1.0) - 1.0, b1 = 0.5 - 0.5 * g1;
  const double g2 = (sigma(2 * b1) - 1.0) + 0.4 * (b1 - 0.5);
  const double b2 = b1 - 0.5 * (0.9 * g1 + g2);
  CHECK(prox.params[0] == 1.0f);
  CHECK(prox.params[1] == -1.0f);
  CHECK(prox.params[2] == Approx(b2).margin(1e-6));
  CHECK(prox.params[3] == Approx(-b2).margin(1e-6));
  CHECK(prox.steps == 2);

  const std::vector<float> k{0.1f, -0.2f, 0.3f, -0.4f};
  const double kb0 = double{k[2]}, kb1 = double{k[3]};
  const double cb_0 = 0.5 - 0.5 * g1 - 0.5 * kb0, cb_1 = -0.5 + 0.5 * g1 - 0.5 * kb1;
  const double p1 = sigma(cb_0 - cb_1);
  cfg.correction = k.data();
  for (double mu : {0.0, 0.4}) {
    INFO("mu " << mu);
    cfg.prox_mu = mu;
    auto res = t.train_one(start, d, cfg);
    const double c2_0 = p1 - 1.0 + mu * (cb_0 - 0.5), c2_1 = 1.0 - p1 + mu * (cb_1 + 0.5);
    CHECK(res.params[0] == Approx(mu == 0 ? 0.9 : 0.91).margin(1e-6));
    CHECK(res.params[1] == Approx(mu == 0 ? -0.8 : -0.82).margin(1e-6));
    CHECK(res.params[2] == Approx(cb_0 - 0.5 * (0.9 * g1 + c2_0) - 0.5 * kb0).margin(1e-6));
    CHECK(res.params[3] == Approx(cb_1 - 0.5 * (0.9 * -g1 + c2_1) - 0.5 * kb1).margin(1e-6));
  }
}

TEST_CASE(
    "with client algorithms a batched result keeps its bits whatever the batch and code "
    "path",
    "[learning][algorithms]") {
  model_spec spec;
  const auto start = initial_params(spec, 1);
  tutorial_random_source src{data_config{}, 8};
  std::vector<client_dataset> data;
  std::vector<std::vector<float>> corrections;
  std::vector<local_train_config> cfgs;
  for (uint64_t id = 0; id < 20; ++id) {
    data.push_back(src.make(id));
    corrections.push_back(correction_values(spec.num_params(), id, 0.02));
  }
  // Every other client corrected, every third proximal: neighbours differ in both.
  for (uint64_t id = 0; id < 20; ++id)
    cfgs.push_back(with_algorithms(config(stream_key(8, rng_tag::shuffle, id)),
                                   id % 3 == 0 ? 0.0 : 0.05 * static_cast<double>(id % 3),
                                   id % 2 ? corrections[id].data() : nullptr));
  auto job = [&](size_t id) { return batched_job{&start, &data[id], cfgs[id]}; };
  for (size_t probe : {size_t{4}, size_t{5}, size_t{7}}) {  // μ only, μ and c, c only
    INFO("probe " << probe);
    batched_trainer generic{spec, kernel_isa::generic};
    const auto alone = generic.train({job(probe)}).at(0).result;
    batched_trainer avx2{spec, kernel_isa::avx2};
    batched_trainer best{spec};
    CHECK(same_bits(avx2.train_one(start, data[probe], cfgs[probe]), alone));
    CHECK(same_bits(best.train_one(start, data[probe], cfgs[probe]), alone));
    std::vector<batched_job> jobs;
    for (size_t id = 0; id < 20; ++id) jobs.push_back(job((id * 7 + 3) % 20));
    size_t at = 0;
    for (size_t i = 0; i < jobs.size(); ++i)
      if (jobs[i].data == &data[probe]) at = i;
    CHECK(same_bits(best.train(jobs).at(at).result, alone));
    CHECK(same_bits(generic.train(jobs).at(at).result, alone));
  }
  // A plain job after corrected and proximal ones gets the plain bits (nothing leaks).
  batched_trainer fresh{spec};
  auto plain_cfg = config(3);
  const auto plain = fresh.train_one(start, data[0], plain_cfg);
  batched_trainer used{spec};
  auto out = used.train({job(5), job(1), batched_job{&start, &data[0], plain_cfg}});
  CHECK(same_bits(out.at(2).result, plain));
}

TEST_CASE("a bad prox_mu is a job error and the other jobs train", "[learning][algorithms]") {
  model_spec spec;
  const auto start = initial_params(spec, 1);
  auto good = make_client(1, 60, 32, 10);
  const auto cfg = config(1);
  batched_trainer t{spec};
  auto out = t.train({{&start, &good, with_algorithms(cfg, -0.5, nullptr)},
                      {&start, &good, with_algorithms(cfg, std::nan(""), nullptr)},
                      {&start, &good, with_algorithms(cfg, HUGE_VAL, nullptr)},
                      {&start, &good, with_algorithms(cfg, 0.5, nullptr)}});
  REQUIRE(out.size() == 4);
  CHECK(out[0].error.rfind("prox_mu must be finite, >= 0", 0) == 0);
  CHECK_FALSE(out[1].ok());
  CHECK_FALSE(out[2].ok());
  CHECK(out[3].ok());
  CHECK(out[3].result.steps == 2);
  CHECK_THROWS_AS(t.train_one(start, good, with_algorithms(cfg, -1, nullptr)),
                  std::invalid_argument);
}
