// Strict reproducibility (runtime/cli/strict_reproducibility.hpp): which mode is asked for,
// which pins are missing, and, across processes, a CNN run whose model does not depend on the
// ATen capability and OpenBLAS core the environment asks for.

#include "runtime/cli/strict_reproducibility.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/fedactor_cli.hpp"
#include "tests/support/idx_files.hpp"

using fedactor::strict_environment;
using fedactor::strict_missing;
using fedactor::strict_requested;

namespace {

// An environment for the functions under test.
struct fake_env {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> get() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

// Sets variables of this process for the scope (the child processes inherit them).
struct env_guard {
  std::vector<std::string> names;
  env_guard(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (auto [name, value] : vars) {
      setenv(name, value, 1);
      names.emplace_back(name);
    }
  }
  ~env_guard() {
    for (auto& n : names) unsetenv(n.c_str());
  }
};

}  // namespace

TEST_CASE("strict mode pins the OpenBLAS core, the ATen capability and marks itself",
          "[cli][strict]") {
  const auto& pins = strict_environment();
  REQUIRE(pins.size() == 3);
  CHECK(pins[0] == std::pair<std::string, std::string>{"OPENBLAS_CORETYPE", "Haswell"});
  CHECK(pins[1] == std::pair<std::string, std::string>{"ATEN_CPU_CAPABILITY", "default"});
  CHECK(pins[2] == std::pair<std::string, std::string>{"FEDACTOR_REPRODUCIBILITY", "strict"});
}

TEST_CASE("strict mode is asked for by a leading --strict or FEDACTOR_REPRODUCIBILITY=strict",
          "[cli][strict]") {
  fake_env env;
  std::string error;
  std::vector<std::string> args = {"--strict", "run", "x.yaml"};
  CHECK(strict_requested(args, env.get(), error) == std::optional<bool>{true});
  CHECK(args == std::vector<std::string>{"run", "x.yaml"});

  // Not leading: an argument of the command, left where it is.
  args = {"run", "--strict"};
  CHECK(strict_requested(args, env.get(), error) == std::optional<bool>{false});
  CHECK(args.size() == 2);

  env.vars["FEDACTOR_REPRODUCIBILITY"] = "strict";
  args = {"run"};
  CHECK(strict_requested(args, env.get(), error) == std::optional<bool>{true});
  env.vars["FEDACTOR_REPRODUCIBILITY"] = "default";
  CHECK(strict_requested(args, env.get(), error) == std::optional<bool>{false});
  CHECK(error.empty());

  env.vars["FEDACTOR_REPRODUCIBILITY"] = "strickt";
  CHECK_FALSE(strict_requested(args, env.get(), error).has_value());
  CHECK(error == "FEDACTOR_REPRODUCIBILITY: must be strict or default, got 'strickt'");
}

TEST_CASE("strict mode re-executes only while a pin is missing or has another value",
          "[cli][strict]") {
  fake_env env;
  CHECK(strict_missing(env.get()) == strict_environment());
  env.vars = {{"OPENBLAS_CORETYPE", "Haswell"},
              {"ATEN_CPU_CAPABILITY", "avx2"},
              {"FEDACTOR_REPRODUCIBILITY", "strict"}};
  CHECK(strict_missing(env.get()) ==
        std::vector<std::pair<std::string, std::string>>{{"ATEN_CPU_CAPABILITY", "default"}});
  env.vars["ATEN_CPU_CAPABILITY"] = "default";
  CHECK(strict_missing(env.get()).empty());
}

TEST_CASE("fedactor refuses a bad FEDACTOR_REPRODUCIBILITY in one line, exit 2", "[cli][strict]") {
  env_guard env{{"FEDACTOR_REPRODUCIBILITY", "fast"}};
  const auto r = fedactor::testing::fedactor_cli("version", 60);
  CHECK(r.code == 2);
  CHECK(r.err == "fedactor: FEDACTOR_REPRODUCIBILITY: must be strict or default, got 'fast'\n");
}

TEST_CASE(
    "a strict CNN run gives the same model whatever ATen capability and OpenBLAS core the "
    "environment asks for",
    "[cli][strict]") {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    WARN("this CPU lacks AVX2 or FMA: strict mode refuses to run here");
    return;
  }
  fedactor::test::temp_dir dir("strict_cnn");
  fedactor::test::write_fmnist_dir(dir, 600, 10);
  // 60 clients of 10 fixture images, 4 a round, 2 rounds of the CNN: a few seconds.
  const std::string sets =
      " --set data.path='" + dir.path.string() +
      "' --set population.clients=60 --set selection.clients_per_round=4"
      " --set pool.max_live_clients=8 --set protocol.rounds=2"
      " --set training.epochs=1 --set eval.every=0 --set topology.edges=2 --set data.partition=iid";
  auto run = [&](const char* capability, const char* core) {
    env_guard env{{"ATEN_CPU_CAPABILITY", capability}, {"OPENBLAS_CORETYPE", core}};
    const auto out = dir.path / (std::string("run_") + capability + "_" + core);
    const auto r = fedactor::testing::fedactor_cli(
        "--strict run examples/scenarios/fmnist_dirichlet.yaml --quiet --out '" + out.string() +
            "'" + sets,
        300);
    INFO(r.all());
    REQUIRE(r.code == 0);
    std::ifstream in(out / "summary.json");
    return nlohmann::json::parse(in).at("model_sha256").get<std::string>();
  };
  const auto base = run("default", "Prescott");
  CHECK(base.size() == 64);
  CHECK(run("avx2", "Haswell") == base);
  CHECK(run("avx2", "Sandybridge") == base);
}
