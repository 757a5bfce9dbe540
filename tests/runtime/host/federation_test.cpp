#include "runtime/host/federation.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/system_config.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/scenario/load.hpp"
#include "tests/support/federation_run.hpp"

using namespace fedactor;
using fedactor::testing::run_federation;

namespace {

scenario small_teacher() {
  scenario s;
  s.name = "test";
  s.seed = 21;
  s.population.clients = 300;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 10;
  s.selection.clients_per_round = 40;
  s.pool.max_live_clients = 40;
  s.pool.trainers = 2;
  s.protocol.rounds = 1;
  return s;
}

}  // namespace

TEST_CASE("one hierarchical round over 10 edges equals flat weighted FedAvg", "[host]") {
  auto s = small_teacher();
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 1);
  REQUIRE(out.records[0].clients == 40);
  REQUIRE(out.records[0].failures == 0);

  // Flat FedAvg by hand: the same 40 clients (same sampler, same seed), each trained from
  // the initial model, averaged with weights num_samples, in double.
  auto data = make_data_source(s);
  client_registry reg{s.population.clients, s.seed, s.population.regions,
                      [&](client_id id) { return data->num_samples(id); }};
  auto pick = make_sampler(s.selection.strategy, reg, s.seed);
  auto ids = pick->sample(s.selection.clients_per_round, 1);
  auto spec = make_model_spec(s);
  auto start = initial_params(spec, s.seed);
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
  const auto& model = out.result.model;
  REQUIRE(model.size() == sum.size());
  for (size_t i = 0; i < sum.size(); ++i) REQUIRE(model[i] == Approx(sum[i] / total).margin(1e-6));
}

TEST_CASE("the model bytes do not depend on the number of edges", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  auto ten = run_federation(s);
  s.topology.edges = 1;
  auto one = run_federation(s);
  s.topology.edges = 7;
  s.topology.routing = routing_kind::hash;
  auto seven = run_federation(s);
  CHECK(ten.result.summary.model_sha256 == one.result.summary.model_sha256);
  CHECK(ten.result.summary.model_sha256 == seven.result.summary.model_sha256);
}

TEST_CASE("the same scenario gives identical model bytes with 1 and 2 scheduler threads",
          "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 2;
  auto a = run_federation(s, 1);
  auto b = run_federation(s, 2);
  REQUIRE(a.result.summary.model_sha256.size() == 64);
  CHECK(a.result.summary.model_sha256 == b.result.summary.model_sha256);
  CHECK(a.result.model == b.result.model);
  s.seed = 22;
  auto c = run_federation(s, 2);
  CHECK(c.result.summary.model_sha256 != a.result.summary.model_sha256);
}

TEST_CASE("three rounds on the learnable task lower the loss", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  s.training.epochs = 2;
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  for (auto& r : out.records) {
    CHECK(r.clients == 40);
    CHECK(r.failures == 0);
  }
  CHECK(out.records[2].mean_loss < out.records[0].mean_loss - 0.1);
  CHECK(out.result.summary.rounds == 3);
  CHECK(out.result.summary.clients_trained == 120);
  CHECK(out.result.summary.final_loss == out.records[2].mean_loss);
}

TEST_CASE("the live client set never exceeds pool.max_live_clients", "[host]") {
  auto s = small_teacher();
  s.protocol.rounds = 3;
  s.selection.clients_per_round = 60;
  s.pool.max_live_clients = 12;
  s.topology.edges = 4;  // 3 live clients per edge
  auto out = run_federation(s);
  REQUIRE(out.records.size() == 3);
  for (auto& r : out.records) {
    CHECK(r.clients == 60);
    CHECK(r.peak_live_clients <= 12);
    CHECK(r.live_clients <= 12);
  }
  CHECK(out.records.back().evictions > 100);  // ~168: every new client beyond 12 evicts one
}

TEST_CASE("a federation refuses a scenario built in code that does not validate", "[host]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto s = small_teacher();
  s.topology.edges = 0;  // would divide the clients by zero edges
  const auto expected = validate(s);
  REQUIRE(expected);
  try {
    federation fl{sys, s};
    FAIL("no error for topology.edges 0");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()} == expected->message);
    CHECK(std::string{e.what()}.find("topology.edges") != std::string::npos);
  }
}
