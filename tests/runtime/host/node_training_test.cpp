// Tests of runtime/host/node_training.*: a training node's parts from the scenario — data,
// model, trainer pool, and a client state store only when the strategy needs one — and the
// one-line errors and exit codes when they cannot be built.

#include "runtime/host/node_training.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/system_config.hpp"

using namespace fedactor;

namespace {

struct training_fixture {
  system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<std::string> lines;
  std::function<void(const std::string&)> log = [this](const std::string& l) {
    lines.push_back(l);
  };
};

scenario small() {
  scenario sc;
  sc.population.clients = 10;
  sc.pool.trainers = 1;
  return sc;
}

}  // namespace

TEST_CASE("build_node_training: data, model and trainers, no store for a stateless strategy",
          "[host]") {
  training_fixture f;
  std::optional<temp_state_dir> temp;
  auto built = build_node_training(f.sys, small(), {}, temp, f.log);
  REQUIRE(std::holds_alternative<node_training>(built));
  auto& parts = std::get<node_training>(built);
  CHECK(parts.data);
  CHECK(parts.spec.num_params() > 0);
  CHECK(parts.trainers);
  CHECK_FALSE(parts.state);
  CHECK_FALSE(temp);
  CHECK(f.lines.empty());
  caf::anon_send_exit(parts.trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("build_node_training opens a client state store for SCAFFOLD, temporary or named",
          "[host]") {
  training_fixture f;
  auto sc = small();
  sc.strategy.client = client_algorithm::scaffold;
  std::optional<temp_state_dir> temp;
  {
    auto built = build_node_training(f.sys, sc, {}, temp, f.log);
    REQUIRE(std::holds_alternative<node_training>(built));
    auto& parts = std::get<node_training>(built);
    CHECK(parts.state);
    CHECK(temp);  // the store's file lives in it
    caf::anon_send_exit(parts.trainers, caf::exit_reason::user_shutdown);
  }
  std::optional<temp_state_dir> dir;
  dir.emplace();
  const auto named = dir->file().parent_path() / "named.db";
  std::optional<temp_state_dir> unused;
  auto built = build_node_training(f.sys, sc, {named, 2}, unused, f.log);
  REQUIRE(std::holds_alternative<node_training>(built));
  auto& parts = std::get<node_training>(built);
  CHECK(parts.state);
  CHECK_FALSE(unused);
  CHECK(std::filesystem::exists(named));
  caf::anon_send_exit(parts.trainers, caf::exit_reason::user_shutdown);
}

TEST_CASE("build_node_training refuses a strategy the model does not fit (2) and missing data (1)",
          "[host]") {
  training_fixture f;
  std::optional<temp_state_dir> temp;
  auto fedbn = small();
  fedbn.strategy.normalization = norm_handling::local;  // the default model has no norm layer
  auto refused = build_node_training(f.sys, fedbn, {}, temp, f.log);
  REQUIRE(std::holds_alternative<int>(refused));
  CHECK(std::get<int>(refused) == 2);
  REQUIRE(f.lines.size() == 1);
  CHECK(f.lines[0].find("error: strategy.normalization: local (FedBN) needs a model with "
                        "normalisation layers") == 0);

  f.lines.clear();
  auto missing = small();
  missing.data.kind = data_kind::fashion_mnist;
  missing.data.path = "/nonexistent/fashion-mnist";
  auto failed = build_node_training(f.sys, missing, {}, temp, f.log);
  REQUIRE(std::holds_alternative<int>(failed));
  CHECK(std::get<int>(failed) == 1);
  REQUIRE(f.lines.size() == 1);
  CHECK(f.lines[0].find("error: ") == 0);
  CHECK(f.lines[0].find("/nonexistent/fashion-mnist") != std::string::npos);
}
