#include "runtime/cli/scenario_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/scenario/key_reference.hpp"
#include "runtime/scenario/load.hpp"
#include "tests/support/fedactor_cli.hpp"
#include "tests/support/test_paths.hpp"

namespace fs = std::filesystem;
using namespace fedactor;

namespace {

const std::string quickstart = FEDACTOR_SOURCE_DIR + "/examples/scenarios/quickstart.yaml";

struct result {
  int code = -1;
  std::string out;
  std::string err;
};

result scenario_cmd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  result r;
  r.code = scenario_command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// The built binary with `args` (shell-quoted), stdout and stderr apart.
fedactor::testing::cli_result binary(const std::string& args) {
  return fedactor::testing::fedactor_cli(args, 60);
}

// A scenario file in the temp dir (named after the process: parallel runs stay apart).
struct temp_file {
  std::string path;
  temp_file(const std::string& name, const std::string& text)
      : path((fs::temp_directory_path() /
              ("fedactor_scenario_" + std::to_string(::getpid()) + "_" + name))
                 .string()) {
    std::ofstream(path) << text;
  }
  ~temp_file() { std::remove(path.c_str()); }
};

scenario loaded(const std::string& file, const std::vector<std::string>& overrides = {}) {
  scenario s;
  REQUIRE_FALSE(load_scenario_file(file, s));
  for (const auto& o : overrides) REQUIRE_FALSE(apply_override(o, s));
  REQUIRE_FALSE(validate(s));
  return s;
}

scenario read_back(const std::string& yaml) {
  scenario s;
  auto err = load_scenario_text(yaml, "check output", s);
  INFO((err ? err->message : ""));
  REQUIRE_FALSE(err);
  return s;
}

}  // namespace

TEST_CASE("scenario check prints the effective quickstart scenario, which reads back equal",
          "[cli][scenario]") {
  auto r = scenario_cmd({"check", quickstart});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  const scenario file = loaded(quickstart);
  CHECK(r.out == to_yaml(file));
  CHECK(read_back(r.out) == file);
  // Every key with its effective value.
  for (const auto& k : scenario_keys()) {
    INFO(k.path);
    CHECK(r.out.find(k.path.substr(k.path.rfind('.') + 1) + ": " + *key_value(file, k.path)) !=
          std::string::npos);
  }
}

TEST_CASE("scenario check applies each --set in order, both spellings", "[cli][scenario]") {
  auto r = scenario_cmd({"check", "--set", "training.lr=0.5", quickstart,
                         "--set=model.hidden=[16, 8]", "--set", "training.lr=0.25"});
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  const scenario expected = loaded(quickstart, {"model.hidden=[16, 8]", "training.lr=0.25"});
  const scenario back = read_back(r.out);
  CHECK(back == expected);
  CHECK(back.training.lr == 0.25);
  CHECK(back.model.hidden == std::vector<uint32_t>{16, 8});
  CHECK_FALSE(back == loaded(quickstart));
}

TEST_CASE("scenario check of a bad scenario prints the loader's one line and exits 2",
          "[cli][scenario]") {
  temp_file bad_key("bad_key.yaml", "name: x\ntraining:\n  bach_size: 3\n");
  temp_file bad_value("bad_value.yaml", "population:\n  clients: 0\n");
  temp_file bad_rule("bad_rule.yaml", "population:\n  clients: 50\n");
  temp_file bad_yaml("bad_yaml.yaml", "model:\n  hidden: [1, 2\n");
  const std::string missing = (fs::temp_directory_path() / "fedactor_no_such.yaml").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"check", bad_key.path},
       "error: " + bad_key.path +
           ":3: training.bach_size: unknown key (did you mean training.batch_size?)\n"},
      {{"check", bad_value.path},
       "error: " + bad_value.path + ":2: population.clients: must be in [1, 4294967295], got 0\n"},
      {{"check", bad_rule.path},
       "error: scenario: selection.clients_per_round: must be <= population.clients (50), got "
       "100\n"},
      {{"check", missing}, "error: " + missing + ": cannot open: No such file or directory\n"},
      {{"check", quickstart, "--set", "training.lr=abc"},
       "error: --set: training.lr: expected a number, got 'abc'\n"},
      {{"check", quickstart, "--set", "training.rl=1"},
       "error: --set: training.rl: unknown key (did you mean training.lr?)\n"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args.at(1));
    auto r = scenario_cmd(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == message);
  }
  // A YAML syntax error: one line naming the file and the line.
  auto r = scenario_cmd({"check", bad_yaml.path});
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("error: " + bad_yaml.path + ":", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

TEST_CASE("fedactor scenario check gives the same error line and status as fedactor run",
          "[cli][scenario]") {
  temp_file bad_key("same_error.yaml", "training:\n  epochs: 2.5\n");
  const auto check = binary("scenario check '" + bad_key.path + "'");
  const auto run = binary("run '" + bad_key.path + "'");
  CHECK(check.code == 2);
  CHECK(run.code == 2);
  CHECK(check.out.empty());
  CHECK(check.err ==
        "error: " + bad_key.path +
            ":2: training.epochs: expected an unsigned integer, got '2.5' (not a whole number)\n");
  CHECK(check.err == run.err);
  const auto ok = binary("scenario check '" + quickstart + "' --set=seed=7");
  CHECK(ok.code == 0);
  CHECK(ok.err.empty());
  CHECK(read_back(ok.out) == loaded(quickstart, {"seed=7"}));
}

TEST_CASE("scenario keys lists every schema key with its default in each format",
          "[cli][scenario]") {
  const auto keys = scenario_keys();
  auto table = scenario_cmd({"keys"});
  CHECK(table.code == 0);
  CHECK(table.err.empty());
  CHECK(table.out == keys_text(keys));
  CHECK(scenario_cmd({"keys", "--format", "table"}).out == table.out);
  size_t lines = 0;
  for (char c : table.out) lines += c == '\n';
  CHECK(lines == keys.size() + 1);

  auto md = scenario_cmd({"keys", "--format=markdown"});
  CHECK(md.code == 0);
  CHECK(md.out == keys_markdown(keys));

  auto json = scenario_cmd({"keys", "--format", "json"});
  CHECK(json.code == 0);
  const auto parsed = nlohmann::json::parse(json.out);
  REQUIRE(parsed.size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    INFO(keys[i].path);
    CHECK(parsed[i]["key"] == keys[i].path);
    CHECK(parsed[i]["default"] == keys[i].default_value);
  }
}

TEST_CASE("scenario --help texts name the subcommands and their options", "[cli][scenario]") {
  for (const char* flag : {"--help", "-h"}) {
    INFO(flag);
    auto top = scenario_cmd({flag});
    CHECK(top.code == 0);
    CHECK(top.err.empty());
    CHECK(top.out.rfind("usage: fedactor scenario check SCENARIO.yaml [--set key=value]...\n"
                        "       fedactor scenario keys [--format table|markdown|json]\n",
                        0) == 0);
    auto check = scenario_cmd({"check", flag});
    CHECK(check.code == 0);
    CHECK(check.err.empty());
    CHECK(check.out.rfind("usage: fedactor scenario check SCENARIO.yaml [--set key=value]...\n",
                          0) == 0);
    CHECK(check.out.find("\n  --set KEY=VALUE ") != std::string::npos);
    CHECK(check.out.find("\n  -h [ --help ] ") != std::string::npos);
    auto keys = scenario_cmd({"keys", flag});
    CHECK(keys.code == 0);
    CHECK(keys.out.rfind("usage: fedactor scenario keys [--format table|markdown|json]\n", 0) == 0);
    CHECK(keys.out.find("\n  --format table|markdown|json (=table) ") != std::string::npos);
  }
  auto bin = binary("--help");
  CHECK(bin.out.find("\n  scenario check SCENARIO.yaml [--set key=value]...\n") !=
        std::string::npos);
  CHECK(bin.out.find("\n  scenario keys [--format table|markdown|json]\n") != std::string::npos);
}

TEST_CASE("scenario refuses unknown subcommands and options in one line with exit 2",
          "[cli][scenario]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"frob"},
       "fedactor scenario: unknown subcommand 'frob' (check or keys; see fedactor "
       "scenario --help)\n"},
      {{"--frob"}, "fedactor scenario: unknown option '--frob' (see fedactor scenario --help)\n"},
      {{"check", quickstart, "--bogus"},
       "fedactor scenario check: unknown option '--bogus' (see fedactor scenario check --help)\n"},
      {{"check", "--out=x", quickstart},
       "fedactor scenario check: unknown option '--out' (see fedactor scenario check --help)\n"},
      {{"check"},
       "fedactor scenario check: no scenario file given (see fedactor scenario check --help)\n"},
      {{"check", quickstart, quickstart},
       "fedactor scenario check: too many arguments (see fedactor scenario check --help)\n"},
      {{"check", quickstart, "--set"},
       "fedactor scenario check: the required argument for option '--set' is missing (see "
       "fedactor scenario check --help)\n"},
      {{"keys", "--form", "json"},
       "fedactor scenario keys: unknown option '--form' (see fedactor scenario keys --help)\n"},
      {{"keys", "--format=xml"},
       "fedactor scenario keys: --format must be one of: table, markdown, json, got 'xml'\n"},
      {{"keys", "extra"},
       "fedactor scenario keys: too many arguments (see fedactor scenario keys --help)\n"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args.at(0) + (args.size() > 1 ? " " + args.back() : ""));
    auto r = scenario_cmd(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == message);
  }
  auto none = scenario_cmd({});
  CHECK(none.code == 2);
  CHECK(none.out.empty());
  CHECK(none.err.rfind("usage: fedactor scenario check", 0) == 0);
}
