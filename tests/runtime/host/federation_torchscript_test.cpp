// One federated round with a TorchScript model (tests/fixtures/tiny_mlp.pt, and
// tests/fixtures/bn_cnn.pt with its BatchNorm buffers) through the embedding API, checked
// against FedAvg computed by hand.

#include <vector>

#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "tests/support/idx_files.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;

TEST_CASE("one federated round with the TorchScript fixture equals FedAvg by hand", "[host]") {
  scenario s;
  s.name = "torchscript";
  s.seed = 5;
  s.population.clients = 40;
  s.data.kind = data_kind::teacher;
  s.data.features = 784;  // the fixture flattens its input and expects 784 values
  s.data.min_samples = 20;
  s.data.max_samples = 40;
  s.model.kind = model_kind::torchscript;
  s.model.path = std::string(FEDACTOR_SOURCE_DIR) + "/tests/fixtures/tiny_mlp.pt";
  s.training.lr = 0.05;
  s.topology.edges = 2;
  s.selection.clients_per_round = 6;
  s.pool.max_live_clients = 6;
  s.pool.trainers = 2;
  s.protocol.rounds = 1;

  system_config cfg;
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  REQUIRE(fl.spec().kind == model_kind::torchscript);
  REQUIRE(fl.spec().num_params() == 12730);
  std::vector<round_record> rounds;
  fl.on_round([&](const round_record& r) { rounds.push_back(r); });
  auto result = fl.run();
  REQUIRE(rounds.size() == 1);
  REQUIRE(rounds[0].clients == 6);
  REQUIRE(rounds[0].failures == 0);

  auto data = make_data_source(s);
  client_registry reg{s.population.clients, s.seed, s.population.regions,
                      [&](client_id id) { return data->num_samples(id); }};
  auto ids = make_sampler(s.selection.strategy, reg, s.seed)->sample(6, 1);
  auto spec = make_model_spec(s);
  auto start = initial_params(spec, s.seed);
  REQUIRE(start == load_torchscript_params(s.model.path));
  local_trainer t{spec};
  std::vector<double> sum(start.size(), 0.0);
  double total = 0;
  for (auto id : ids) {
    local_train_config lc{1, 32, s.training.lr, s.training.momentum,
                          stream_key(s.seed, rng_tag::shuffle, 1, id)};
    auto r = t.train(start, data->make(id), lc);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += r.num_samples * double(r.params[i]);
    total += r.num_samples;
  }
  REQUIRE(result.model.size() == 12730);
  size_t changed = 0;
  for (size_t i = 0; i < sum.size(); ++i) {
    REQUIRE(result.model[i] == Approx(sum[i] / total).margin(1e-6));
    changed += result.model[i] != start[i];
  }
  CHECK(changed > 12730 / 2);
}

TEST_CASE("one federated round with the BatchNorm fixture averages its running statistics",
          "[host][buffers]") {
  // tests/fixtures/bn_cnn.pt on Fashion-MNIST-shaped images: the flat model is its 6818
  // parameters and 9 buffer values (running mean [4], running variance [4], batch count);
  // the round's model is the sample-weighted mean of all of them, and the evaluator runs.
  test::temp_dir dir{"bn_federation"};
  test::write_fmnist_dir(dir, 240, 40);
  scenario s;
  s.name = "batchnorm";
  s.seed = 7;
  s.population.clients = 12;
  s.data.kind = data_kind::fashion_mnist;
  s.data.path = dir.path.string();
  s.model.kind = model_kind::torchscript;
  s.model.path = std::string(FEDACTOR_SOURCE_DIR) + "/tests/fixtures/bn_cnn.pt";
  s.training.lr = 0.05;
  s.training.batch_size = 8;
  s.topology.edges = 2;
  s.selection.clients_per_round = 4;
  s.pool.max_live_clients = 4;
  s.pool.trainers = 2;
  s.protocol.rounds = 1;

  system_config cfg;
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  REQUIRE(fl.spec().flat_size() == 6827);
  std::vector<round_record> rounds;
  fl.on_round([&](const round_record& r) { rounds.push_back(r); });
  auto result = fl.run();
  REQUIRE(rounds.size() == 1);
  REQUIRE(rounds[0].clients == 4);
  REQUIRE(rounds[0].failures == 0);

  auto data = make_data_source(s);
  client_registry reg{s.population.clients, s.seed, s.population.regions,
                      [&](client_id id) { return data->num_samples(id); }};
  auto ids = make_sampler(s.selection.strategy, reg, s.seed)->sample(4, 1);
  auto spec = make_model_spec(s);
  auto start = initial_params(spec, s.seed);
  local_trainer t{spec};
  std::vector<double> sum(start.size(), 0.0);
  double total = 0, batches = 0;
  for (auto id : ids) {
    local_train_config lc{1, 8, s.training.lr, s.training.momentum,
                          stream_key(s.seed, rng_tag::shuffle, 1, id)};
    auto r = t.train(start, data->make(id), lc);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += r.num_samples * double(r.params[i]);
    total += r.num_samples;
    batches += r.num_samples * double((r.num_samples + 7) / 8);
  }
  REQUIRE(result.model.size() == 6827);
  for (size_t i = 0; i < sum.size(); ++i)
    REQUIRE(result.model[i] == Approx(sum[i] / total).margin(1e-6));
  for (size_t i = 6818; i < 6826; ++i) CHECK(result.model[i] != start[i]);  // running stats moved
  CHECK(result.model[6826] == Approx(batches / total).margin(1e-6));
}
