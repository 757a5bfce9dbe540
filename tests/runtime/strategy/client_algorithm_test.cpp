// Tests of runtime/strategy/client_algorithm.*: the settings as they travel, the plan of a task
// (FedProx's mu, SCAFFOLD's correction from the state store, FedBN's own layers) and what a
// finished task stores and sends.

#include "runtime/strategy/client_algorithm.hpp"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/learning/flat_range.hpp"
#include "runtime/strategy/scaffold.hpp"

using namespace fedactor;

namespace {

struct temp_store {
  std::filesystem::path dir;
  std::unique_ptr<client_state_store> store;
  explicit temp_store(const std::string& name)
      : dir(std::filesystem::temp_directory_path() /
            ("fedactor_alg_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir);
    store = std::make_unique<client_state_store>(dir / "state.db", 1 << 20);
  }
  ~temp_store() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
};

// An MLP 2 -> 2 (6 parameters, no buffers, no norm layers).
model_spec tiny_mlp() {
  return model_spec{2, {}, 2};
}

// A spec with buffers and norm ranges, by hand: 6 parameters, 3 buffer values; values 2..3
// and 7..8 belong to normalisation layers.
model_spec with_norm() {
  model_spec s{2, {}, 2};
  s.buffers = {buffer_spec{"bn.running_mean", {2}, false}, buffer_spec{"bn.n", {1}, true}};
  s.norm_ranges = {flat_range{2, 4}, flat_range{6, 9}};
  return s;
}

}  // namespace

TEST_CASE("client algorithm settings travel as a name and numbers and are checked on arrival",
          "[strategy][algorithms]") {
  scenario sc;
  CHECK(algorithm_name(sc) == "fedavg");
  CHECK(algorithm_params(sc).empty());
  sc.strategy.client = client_algorithm::fedprox;
  sc.strategy.prox_mu = 0.25;
  sc.strategy.normalization = norm_handling::local;
  CHECK(algorithm_name(sc) == "fedprox");
  CHECK(algorithm_params(sc) ==
        std::map<std::string, double>{{"local_norm", 1}, {"prox_mu", 0.25}});
  std::string why;
  auto alg = read_client_algorithm("fedprox", algorithm_params(sc), why);
  REQUIRE(alg);
  CHECK(alg->kind == client_algorithm::fedprox);
  CHECK(alg->prox_mu == 0.25);
  CHECK(alg->local_norm);
  CHECK_FALSE(read_client_algorithm("fedadam", {}, why));
  CHECK(why == "unknown client algorithm 'fedadam'");
  CHECK_FALSE(read_client_algorithm("fedprox", {{"prox_mu", -1}}, why));
  CHECK(why == "prox_mu must be a finite number >= 0");
  CHECK_FALSE(read_client_algorithm("fedprox", {{"prox_mu", NAN}}, why));
  CHECK_FALSE(read_client_algorithm("scaffold", {{"prox_mu", 0.1}}, why));
  CHECK(why == "parameter 'prox_mu' is not one of scaffold's");
  CHECK_FALSE(read_client_algorithm("fedavg", {{"local_norm", 2}}, why));
  CHECK(why == "local_norm must be 0 or 1");
}

TEST_CASE("fedavg and fedprox plan no state and no correction", "[strategy][algorithms]") {
  const std::vector<float> global(6, 0.5f);
  client_algorithm_settings alg;
  auto plan = plan_client_task(alg, 3, global, {}, tiny_mlp(), nullptr);
  CHECK(plan.start.empty());
  CHECK(plan.correction.empty());
  CHECK(plan.prox_mu == 0);
  alg.kind = client_algorithm::fedprox;
  alg.prox_mu = 0.01;
  plan = plan_client_task(alg, 3, global, {}, tiny_mlp(), nullptr);
  CHECK(plan.prox_mu == 0.01);
  local_train_result res{global, 10, 0.5, 4};
  CHECK(finish_client_task(alg, 3, plan, global, res, 0.1, tiny_mlp(), nullptr).empty());
}

TEST_CASE("scaffold reads c_i (0 at first), corrects by c - c_i, stores c_i+ and sends its delta",
          "[strategy][algorithms]") {
  temp_store t{"scaffold"};
  client_algorithm_settings alg;
  alg.kind = client_algorithm::scaffold;
  const auto spec = tiny_mlp();
  const std::vector<float> x{1, 1, 1, 1, 1, 1};
  const std::vector<float> c{0.5f, 0, 0, 0, 0, -0.5f};
  CHECK_THROWS_AS(plan_client_task(alg, 9, x, c, spec, nullptr), std::invalid_argument);
  CHECK_THROWS_AS(plan_client_task(alg, 9, x, {0.5f}, spec, t.store.get()),
                  std::invalid_argument);  // c of the wrong size
  auto plan = plan_client_task(alg, 9, x, c, spec, t.store.get());
  CHECK(plan.control == std::vector<float>(6, 0.0f));  // never trained: c_i = 0
  CHECK(plan.correction == c);                         // c - 0
  // K = 4 steps at lr 0.5 ended at y: c_i+ = c_i - c + (x - y) / (K lr) = -c + (x - y) / 2.
  const std::vector<float> y{0, 1, 1, 1, 1, 3};
  local_train_result res{y, 10, 0.5, 4};
  auto delta = finish_client_task(alg, 9, plan, x, res, 0.5, spec, t.store.get());
  // c_i+ = (-0.5 + 0.5, 0, 0, 0, 0, 0.5 - 1) = (0, 0, 0, 0, 0, -0.5); delta = c_i+ - 0.
  const std::vector<float> expected{0, 0, 0, 0, 0, -0.5f};
  CHECK(delta == expected);
  // The next task of this client reads c_i+ back: correction c - c_i+.
  auto again = plan_client_task(alg, 9, x, c, spec, t.store.get());
  CHECK(again.control == expected);
  CHECK(again.correction == std::vector<float>{0.5f, 0, 0, 0, 0, 0});
  // Another client still starts from 0.
  CHECK(plan_client_task(alg, 10, x, c, spec, t.store.get()).control == std::vector<float>(6, 0));
}

TEST_CASE("scaffold's control variates cover the parameters only, not the buffers",
          "[strategy][algorithms]") {
  temp_store t{"scaffold_buffers"};
  client_algorithm_settings alg;
  alg.kind = client_algorithm::scaffold;
  const auto spec = with_norm();  // 6 parameters + 3 buffer values
  const std::vector<float> x(9, 1.0f);
  const std::vector<float> c(6, 0.25f);
  auto plan = plan_client_task(alg, 1, x, c, spec, t.store.get());
  CHECK(plan.correction.size() == 6);
  std::vector<float> y(9, 1.0f);
  y[8] = 7;  // a buffer moved: no effect on the control variate
  local_train_result res{y, 10, 0.5, 2};
  auto delta = finish_client_task(alg, 1, plan, x, res, 0.5, spec, t.store.get());
  CHECK(delta == std::vector<float>(6, -0.25f));  // c_i+ = 0 - c + 0
}

TEST_CASE("FedBN keeps a client's normalisation layers: first from the global model, then its own",
          "[strategy][algorithms]") {
  temp_store t{"fedbn"};
  client_algorithm_settings alg;
  alg.local_norm = true;
  const auto spec = with_norm();
  std::vector<float> global{0, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_THROWS_AS(plan_client_task(alg, 4, global, {}, spec, nullptr), std::invalid_argument);
  auto plan = plan_client_task(alg, 4, global, {}, spec, t.store.get());
  CHECK(plan.start.empty());  // nothing stored yet: the global model as sent
  std::vector<float> trained{10, 11, 12, 13, 14, 15, 16, 17, 18};
  local_train_result res{trained, 10, 0.5, 2};
  CHECK(finish_client_task(alg, 4, plan, global, res, 0.1, spec, t.store.get()).empty());
  // The next round's global model: the client trains from it with its own layers 2..3, 6..8.
  std::vector<float> next_global{-1, -1, -1, -1, -1, -1, -1, -1, -1};
  auto second = plan_client_task(alg, 4, next_global, {}, spec, t.store.get());
  CHECK(second.start == std::vector<float>{-1, -1, 12, 13, -1, -1, 16, 17, 18});
  // Another client has none yet.
  CHECK(plan_client_task(alg, 5, next_global, {}, spec, t.store.get()).start.empty());
}

TEST_CASE("a FedBN client's personal model is the global one with its own layers",
          "[strategy][algorithms]") {
  temp_store t{"personal"};
  client_algorithm_settings alg;
  alg.local_norm = true;
  const auto spec = with_norm();
  const std::vector<float> global{0, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_FALSE(personal_model(4, global, spec, *t.store));  // nothing stored yet
  auto plan = plan_client_task(alg, 4, global, {}, spec, t.store.get());
  local_train_result res{{10, 11, 12, 13, 14, 15, 16, 17, 18}, 10, 0.5, 2};
  finish_client_task(alg, 4, plan, global, res, 0.1, spec, t.store.get());
  auto mine = personal_model(4, global, spec, *t.store);
  REQUIRE(mine);
  CHECK(*mine == std::vector<float>{0, 1, 12, 13, 4, 5, 16, 17, 18});
  CHECK_FALSE(personal_model(4, global, tiny_mlp(), *t.store));  // no normalisation layers
}
