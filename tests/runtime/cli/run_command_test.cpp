#include "runtime/cli/run_command.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/model_digest.hpp"
#include "tests/runtime/cli/node_process.hpp"
#include "tests/support/fedactor_cli.hpp"
#include "tests/support/test_paths.hpp"

namespace fs = std::filesystem;
using fedactor::testing::fedactor_cli;
using fedactor::testing::node_process;
using namespace std::chrono_literals;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("fedactor_cli_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("fedactor run writes metrics, summary, model and effective scenario", "[cli]") {
  auto dir = temp_dir("run");
  auto r = fedactor_cli(
      "run examples/scenarios/quickstart.yaml --set protocol.rounds=3 --set population.clients=200"
      " --set selection.clients_per_round=20 --out " +
      dir.string());
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK(r.all().find("round 3/3") != std::string::npos);
  // metrics.jsonl: one object per round.
  std::ifstream jsonl(dir / "metrics.jsonl");
  std::string line;
  int rounds = 0;
  while (std::getline(jsonl, line)) {
    auto j = nlohmann::json::parse(line);
    ++rounds;
    CHECK(j["round"] == rounds);
    CHECK(j["clients"] == 20);
    CHECK(j["failures"] == 0);
    CHECK(j.contains("mean_loss"));
    CHECK(j.contains("wall_s"));
    CHECK(j.contains("clients_per_s"));
  }
  CHECK(rounds == 3);
  auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  CHECK(summary["rounds"] == 3);
  CHECK(summary["clients_trained"] == 60);
  CHECK(summary["peak_rss_bytes"].get<uint64_t>() > 0);
  CHECK(summary["model_l2"].get<double>() > 0);
  // model.pt loads with LibTorch and is the model the digest describes.
  fedactor::model_spec spec;
  auto params = fedactor::load_model_pt(spec, (dir / "model.pt").string());
  CHECK(fedactor::model_sha256(params) == summary["model_sha256"].get<std::string>());
  // scenario.yaml is the effective configuration: the overrides are in it, and it runs.
  auto effective = read(dir / "scenario.yaml");
  CHECK(effective.find("rounds: 3") != std::string::npos);
  auto again_dir = temp_dir("run_again");
  auto again = fedactor_cli("run " + (dir / "scenario.yaml").string() + " --quiet --out " +
                            again_dir.string());
  REQUIRE(again.code == 0);
  auto summary2 = nlohmann::json::parse(read(again_dir / "summary.json"));
  CHECK(summary2["model_sha256"] == summary["model_sha256"]);
  fs::remove_all(dir);
  fs::remove_all(again_dir);
}

TEST_CASE("an async fedactor run counts the results its edges refused in refused_results by reason",
          "[cli]") {
  // NaN attackers: each of their results is refused at its edge as non_finite, answered to
  // the server with that reason and counted once, as its invalid_update failure is.
  auto dir = temp_dir("run_async_refused");
  auto r = fedactor_cli(
      "run examples/scenarios/quickstart.yaml --set protocol.mode=async --set clock=simulated"
      " --set population.clients=200 --set async.concurrency=10 --set async.buffer_size=10"
      " --set async.aggregations=3 --set training.epochs=1 --set attack.kind=nan"
      " --set attack.fraction=0.3 --set attack.seed=3 --quiet --out " +
      dir.string());
  INFO(r.all());
  REQUIRE(r.code == 0);
  auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  INFO(summary.dump());
  const auto invalid = summary["failures_by"]["invalid_update"].get<uint64_t>();
  CHECK(invalid > 0);
  const auto refused = summary["refused_results"];
  CHECK(refused["non_finite"].get<uint64_t>() == invalid);
  for (const char* other : {"wrong_task", "wrong_client", "wrong_shape", "wrong_samples"})
    CHECK(refused[other].get<uint64_t>() == 0);
  fs::remove_all(dir);
}

TEST_CASE("fedactor run rejects a bad scenario with one line and exit code 2", "[cli]") {
  auto dir = temp_dir("bad");
  std::ofstream(dir / "bad.yaml") << "name: x\nselection:\n  strategy: fastest\n";
  auto r = fedactor_cli("run " + (dir / "bad.yaml").string());
  CHECK(r.code == 2);
  CHECK(r.all().find("bad.yaml:3") != std::string::npos);
  CHECK(r.all().find("selection.strategy") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.out.empty());

  auto missing = fedactor_cli("run " + (dir / "nope.yaml").string());
  CHECK(missing.code == 2);
  CHECK(missing.all().find("nope.yaml") != std::string::npos);

  auto bad_set = fedactor_cli("run examples/scenarios/quickstart.yaml --set training.lr=-1");
  CHECK(bad_set.code == 2);
  CHECK(bad_set.all().find("training.lr") != std::string::npos);
  CHECK(bad_set.all().find("--set") != std::string::npos);

  auto no_file = fedactor_cli("run");
  CHECK(no_file.code == 2);
  auto bad_cmd = fedactor_cli("launch");
  CHECK(bad_cmd.code == 2);
  fs::remove_all(dir);
}

// -- the output directory ------------------------------------------------------------------

TEST_CASE("fedactor run refuses an --out directory that holds a run unless --overwrite", "[cli]") {
  auto dir = temp_dir("overwrite");
  const std::string args =
      "run examples/scenarios/quickstart.yaml --quiet --set protocol.rounds=1"
      " --set population.clients=50 --set selection.clients_per_round=5"
      " --out " +
      dir.string();
  auto first = fedactor_cli(args);
  INFO(first.all());
  REQUIRE(first.code == 0);
  const auto digest = nlohmann::json::parse(read(dir / "summary.json"))["model_sha256"];
  std::ofstream(dir / "notes.txt") << "mine\n";

  auto refused = fedactor_cli(args + " --set seed=7");
  INFO(refused.all());
  CHECK(refused.code == 2);
  CHECK(refused.all() == "error: --out " + dir.string() +
                             " already holds a run (scenario.yaml, metrics.jsonl, summary.json, "
                             "model.pt, checkpoint); pass --overwrite to replace it, or choose "
                             "another directory\n");
  // The first run's files are untouched.
  CHECK(nlohmann::json::parse(read(dir / "summary.json"))["model_sha256"] == digest);
  CHECK(read(dir / "scenario.yaml").find("seed: 42") != std::string::npos);

  auto replaced = fedactor_cli(args + " --set seed=7 --overwrite");
  INFO(replaced.all());
  REQUIRE(replaced.code == 0);
  CHECK(nlohmann::json::parse(read(dir / "summary.json"))["model_sha256"] != digest);
  CHECK(read(dir / "scenario.yaml").find("seed: 7") != std::string::npos);
  CHECK(read(dir / "notes.txt") == "mine\n");  // not a run's file: kept
  int lines = 0;
  std::ifstream jsonl(dir / "metrics.jsonl");
  for (std::string line; std::getline(jsonl, line);) ++lines;
  CHECK(lines == 1);

  // A directory with other files only is no run: accepted as it is.
  auto other = temp_dir("overwrite_other");
  std::ofstream(other / "notes.txt") << "x\n";
  auto fresh = fedactor_cli(
      "run examples/scenarios/quickstart.yaml --quiet --set protocol.rounds=1"
      " --set population.clients=50 --set selection.clients_per_round=5"
      " --out " +
      other.string());
  CHECK(fresh.code == 0);
  fs::remove_all(dir);
  fs::remove_all(other);
}

// -- signals -------------------------------------------------------------------------------

namespace {

// A sync run far too long to end by itself within the test (a round takes well under a
// second), so a signal always catches it mid-run.
std::vector<std::string> long_run(const fs::path& dir, const std::string& mode = "sync") {
  std::vector<std::string> a = {
      "run",   FEDACTOR_SOURCE_DIR + "/examples/scenarios/quickstart.yaml",
      "--set", "protocol.rounds=100000",
      "--set", "population.clients=200",
      "--set", "selection.clients_per_round=20",
      "--out", dir.string()};
  if (mode == "async")
    for (const char* s : {"protocol.mode=async", "async.concurrency=20", "async.buffer_size=10",
                          "async.aggregations=100000"}) {
      a.push_back("--set");
      a.push_back(s);
    }
  return a;
}

std::vector<nlohmann::json> records_of(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(dir / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The run in `dir` was stopped by `sig`: exit code, the stopping line, an interrupted summary
// whose rounds match metrics.jsonl, and a model.pt that loads and is the summary's model.
void check_stopped(node_process& run, const fs::path& dir, int sig, const char* name,
                   const char* unit) {
  auto code = run.wait_exit(60s);
  INFO(run.output());
  REQUIRE(code);
  CHECK(*code == 128 + sig);
  CHECK(run.output().find(std::string{"fedactor: "} + name + ": stopping; ") != std::string::npos);
  REQUIRE(fs::exists(dir / "summary.json"));
  auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  CHECK(summary["interrupted"] == true);
  CHECK(summary["stopped_by"] == name);
  const auto rounds = summary["rounds"].get<uint32_t>();
  CHECK(rounds >= 1);
  CHECK(rounds < 100000);
  CHECK(records_of(dir).size() == rounds);
  CHECK(run.output().find(std::string{"interrupted ("} + name + ") after " +
                          std::to_string(rounds) + " " + unit) != std::string::npos);
  fedactor::model_spec spec;
  auto params = fedactor::load_model_pt(spec, (dir / "model.pt").string());
  CHECK(params.size() == summary["num_params"].get<size_t>());
  CHECK(fedactor::model_sha256(params) == summary["model_sha256"].get<std::string>());
  // A resumable checkpoint of the point reached (before the first periodic one too): the
  // round or step in progress is redone / its tasks resent by `fedactor run --resume`.
  const auto ck = fedactor::read_run_checkpoint(dir / "checkpoint");
  CHECK(ck.round == rounds);
  CHECK_FALSE(ck.finished);
}

}  // namespace

TEST_CASE(
    "SIGINT stops fedactor run cleanly: the last completed round's model, an interrupted "
    "summary, exit 130",
    "[cli][signals]") {
  auto dir = temp_dir("sigint");
  uint32_t first_rounds = 0;
  {
    node_process run{long_run(dir)};
    // A progress line follows its metrics.jsonl record: at least one round is on disk.
    REQUIRE(run.wait_for("round 2/", 60s));
    run.signal(SIGINT);
    check_stopped(run, dir, SIGINT, "SIGINT", "rounds");
    first_rounds = nlohmann::json::parse(read(dir / "summary.json"))["rounds"].get<uint32_t>();
  }
  // Resumed from the stop's checkpoint: the next round is the one after the last completed
  // one; stopped again, it has the same run's model after that many rounds.
  node_process resumed{{"run", "--resume", dir.string()}};
  REQUIRE(resumed.wait_for("round " + std::to_string(first_rounds + 2) + "/", 60s));
  resumed.signal(SIGINT);
  check_stopped(resumed, dir, SIGINT, "SIGINT", "rounds");
  CHECK(resumed.output().find("round " + std::to_string(first_rounds) + "/") == std::string::npos);
  // The model is exactly that of the same run ended after that many rounds.
  const auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  CHECK(summary["rounds"].get<uint32_t>() > first_rounds);
  auto ref_dir = temp_dir("sigint_ref");
  auto args = long_run(ref_dir);
  std::string cmd;
  for (size_t i = 0; i < args.size(); ++i) cmd += (i ? " " : "") + args[i];
  auto ref = fedactor_cli(
      cmd + " --quiet --set protocol.rounds=" + std::to_string(summary["rounds"].get<uint32_t>()));
  REQUIRE(ref.code == 0);
  auto ref_summary = nlohmann::json::parse(read(ref_dir / "summary.json"));
  CHECK(ref_summary["interrupted"] == false);
  CHECK(ref_summary["model_sha256"] == summary["model_sha256"]);
  fs::remove_all(dir);
  fs::remove_all(ref_dir);
}

TEST_CASE("SIGTERM stops an async fedactor run cleanly with the last server step's model, exit 143",
          "[cli][signals]") {
  auto dir = temp_dir("sigterm");
  node_process run{long_run(dir, "async")};
  REQUIRE(run.wait_for("aggregation 2/", 60s));
  run.signal(SIGTERM);
  check_stopped(run, dir, SIGTERM, "SIGTERM", "server steps");
  fs::remove_all(dir);
}

TEST_CASE("a second signal ends fedactor run at once, without the summary", "[cli][signals]") {
  auto dir = temp_dir("twice");
  node_process run{long_run(dir)};
  REQUIRE(run.wait_for("round 2/", 60s));
  // Two different signals, so they cannot merge while pending. Which one the process takes
  // first depends on the thread it lands on (a thread started before the watch hands it on);
  // the first starts the clean stop, the second ends the process at once.
  run.signal(SIGINT);
  run.signal(SIGTERM);
  auto code = run.wait_exit(60s);
  INFO(run.output());
  REQUIRE(code);
  const bool term_second = *code == 143;
  CHECK((*code == 143 || *code == 130));
  const std::string first = term_second ? "SIGINT" : "SIGTERM";
  const std::string second = term_second ? "SIGTERM" : "SIGINT";
  CHECK(run.output().find("fedactor: " + first + ": stopping; ") != std::string::npos);
  CHECK(run.output().find("fedactor: " + second + " again: exiting at once") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "summary.json"));
  CHECK(records_of(dir).size() >= 1);  // what was flushed stays
  fs::remove_all(dir);
}

TEST_CASE("example chaos.yaml runs to the end with its events' effects in metrics.jsonl",
          "[cli][events]") {
  auto dir = temp_dir("chaos");
  auto r = fedactor_cli("run examples/scenarios/chaos.yaml --out " + dir.string());
  INFO(r.all());
  REQUIRE(r.code == 0);
  std::ifstream jsonl(dir / "metrics.jsonl");
  std::vector<nlohmann::json> rounds;
  for (std::string line; std::getline(jsonl, line);) rounds.push_back(nlohmann::json::parse(line));
  REQUIRE(rounds.size() == 12);
  // round -> the kinds that fired at its start
  auto kinds = [&](size_t round) {
    std::vector<std::string> out;
    const auto& j = rounds.at(round - 1);
    if (j.contains("events"))
      for (const auto& e : j["events"]) out.push_back(e["kind"].get<std::string>());
    return out;
  };
  CHECK(kinds(1).empty());
  CHECK(kinds(3) == std::vector<std::string>{"edge_down"});
  CHECK(kinds(4) == std::vector<std::string>{"region_down"});
  CHECK(kinds(5) == std::vector<std::string>{"clients_leave"});
  // The server crash before round 7 is listed on the round after which the server went down.
  CHECK(kinds(6) == std::vector<std::string>{"edge_up", "server_crash"});
  CHECK(kinds(7).empty());
  CHECK(kinds(8) == std::vector<std::string>{"region_up"});
  // The bandwidth drop at simulated second 30 fires at the first round starting after it.
  CHECK(kinds(9) == std::vector<std::string>{"bandwidth", "clients_join"});
  const auto& down = rounds[2]["events"][0];
  CHECK(down["target"] == "edge 1");
  CHECK(down["trigger"] == "round 3");
  CHECK(down["changed"] == 1);
  // Edge 1 is out for rounds 3 to 5: lost once, its clients rerouted, every round complete.
  CHECK(rounds[2]["edges_lost"] == 1);
  for (size_t i = 2; i < 5; ++i) {
    CAPTURE(i + 1);
    CHECK(rounds[i]["rerouted"].get<int>() > 0);
  }
  CHECK(rounds[5]["edges_rejoined"] == 1);
  for (size_t i = 5; i < 12; ++i) CHECK(rounds[i]["rerouted"] == 0);
  for (const auto& j : rounds) {
    CHECK(j["clients"] == 40);
    CHECK(j["failures"] == 0);
  }
  // Region 2 of 4 holds about a quarter of the 2,000 clients; 30% leave, 20% come back.
  const int region = rounds[3]["events"][0]["changed"];
  CHECK(region > 400);
  CHECK(region < 600);
  const int left = rounds[4]["events"][0]["changed"];
  CHECK(left > 500);  // about 30% of the population (region 2 included)
  CHECK(left < 700);
  CHECK(rounds[7]["events"][0]["changed"].get<int>() <
        region);  // those of the region who left stay away
  CHECK(rounds[8]["events"][0]["target"] == "fraction 1 x20");
  CHECK(rounds[8]["events"][0]["trigger"] == "at 30");
  // 20 times slower links: every round after the drop lasts longer than any before it.
  double before = 0, after = 1e300;
  for (size_t i = 0; i < 8; ++i) before = std::max(before, rounds[i]["sim_round_s"].get<double>());
  for (size_t i = 8; i < 12; ++i) after = std::min(after, rounds[i]["sim_round_s"].get<double>());
  CHECK(after > before);
  // Same seed, same run.
  auto dir2 = temp_dir("chaos2");
  REQUIRE(fedactor_cli("run examples/scenarios/chaos.yaml --out " + dir2.string()).code == 0);
  auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  auto summary2 = nlohmann::json::parse(read(dir2 / "summary.json"));
  CHECK(summary["model_sha256"] == summary2["model_sha256"]);
  CHECK(summary["interrupted"] == false);
  CHECK(summary["rounds"] == 12);
  // Without the crash: the same model (the resumed server continued the run exactly).
  auto dir3 = temp_dir("chaos_no_crash");
  const std::string events =
      "events=[{round: 3, kind: edge_down, edge: 1}, {round: 4, kind: region_down, region: 2}, "
      "{round: 5, kind: clients_leave, fraction: 0.3}, {round: 6, kind: edge_up, edge: 1}, "
      "{round: 8, kind: region_up, region: 2}, {round: 9, kind: clients_join, fraction: 0.2}, "
      "{at: 30, kind: bandwidth, fraction: 1, factor: 20}]";
  auto r3 = fedactor_cli("run examples/scenarios/chaos.yaml --set '" + events + "' --out " +
                         dir3.string());
  INFO(r3.all());
  REQUIRE(r3.code == 0);
  auto summary3 = nlohmann::json::parse(read(dir3 / "summary.json"));
  CHECK(summary3["model_sha256"] == summary["model_sha256"]);
  fs::remove_all(dir2);
  fs::remove_all(dir3);
}

TEST_CASE(
    "a private fedactor run reports epsilon per round and in the summary, and a server "
    "crash resumed from its checkpoint gives the same model and epsilon",
    "[cli][privacy]") {
  const std::string base =
      "run examples/scenarios/quickstart.yaml --quiet --set protocol.rounds=4"
      " --set population.clients=200 --set selection.clients_per_round=20"
      " --set privacy.mode=dp_fedavg --set privacy.clip=0.5 --set privacy.noise_multiplier=1"
      " --set privacy.clipping=adaptive --set privacy.delta=1e-3 --set checkpoint.every=1";
  auto dir = temp_dir("private");
  auto r = fedactor_cli(base + " --out " + dir.string());
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK(r.all().find("differential privacy: (epsilon ") != std::string::npos);
  std::ifstream jsonl(dir / "metrics.jsonl");
  std::vector<nlohmann::json> rounds;
  for (std::string line; std::getline(jsonl, line);) rounds.push_back(nlohmann::json::parse(line));
  REQUIRE(rounds.size() == 4);
  double last = 0;
  for (const auto& j : rounds) {
    CHECK(j["delta"] == 1e-3);
    CHECK(j["epsilon"].get<double>() > last);  // composition: it only grows
    last = j["epsilon"].get<double>();
    CHECK(j["dp_clip"].get<double>() > 0);
    CHECK(j["dp_noise_std"].get<double>() > j["dp_clip"].get<double>());  // z_Δ > z = 1
  }
  CHECK(rounds[0]["dp_clip"] == 0.5);
  CHECK(rounds[1]["dp_clip"] == rounds[0]["dp_next_clip"]);
  auto summary = nlohmann::json::parse(read(dir / "summary.json"));
  CHECK(summary["epsilon"] == rounds[3]["epsilon"]);
  CHECK(summary["delta"] == 1e-3);
  CHECK(summary["dp_final_clip"] == rounds[3]["dp_next_clip"]);

  // The server goes down after round 2 and a new one resumes from the checkpoint: the noise
  // (seeded by the round), the clip bound and the accountant carry on as without the crash.
  auto crashed = temp_dir("private_crash");
  auto c = fedactor_cli(base + " --set 'events=[{round: 3, kind: server_crash}]' --out " +
                        crashed.string());
  INFO(c.all());
  REQUIRE(c.code == 0);
  auto summary2 = nlohmann::json::parse(read(crashed / "summary.json"));
  CHECK(summary2["model_sha256"] == summary["model_sha256"]);
  CHECK(summary2["epsilon"] == summary["epsilon"]);
  CHECK(summary2["dp_final_clip"] == summary["dp_final_clip"]);
  fs::remove_all(dir);
  fs::remove_all(crashed);
}

// -- the command line ----------------------------------------------------------------------

namespace {

fedactor::testing::cli_result run_cmd(const std::vector<std::string>& args) {
  return fedactor::testing::in_process(
      [](const auto& a, auto& out, auto& err) { return fedactor::run_command(a, out, err); }, args);
}

}  // namespace

TEST_CASE("fedactor run --help prints the usage and every option, exit 0", "[cli]") {
  auto r = run_cmd({"--help"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("usage: fedactor run SCENARIO.yaml [--set key=value]... [--out DIR]", 0) == 0);
  for (const char* option :
       {"--set KEY=VALUE", "--out DIR", "--overwrite", "--threads N", "--quiet", "--resume DIR",
        "--http [HOST:]PORT", "--http-public", "--http-linger SECONDS", "-h [ --help ]"}) {
    INFO(option);
    CHECK(r.out.find(std::string{"\n  "} + option + " ") != std::string::npos);
  }
}

TEST_CASE("fedactor run refuses bad arguments in one line naming option and value, exit 2",
          "[cli]") {
  const std::string qs = "examples/scenarios/quickstart.yaml";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{qs, "--frob"}, "fedactor run: unknown option '--frob' (see fedactor run --help)\n"},
      {{qs, "--ou", "x"}, "fedactor run: unknown option '--ou' (see fedactor run --help)\n"},
      {{qs, "--threads", "abc"},
       "fedactor run: --threads: expected a whole number in [1, 1024], got 'abc'\n"},
      {{qs, "--threads", "-3"},
       "fedactor run: --threads: expected a whole number in [1, 1024], got '-3'\n"},
      {{qs, "--threads=0"},
       "fedactor run: --threads: expected a whole number in [1, 1024], got '0'\n"},
      {{qs, "--http-linger", "soon"},
       "fedactor run: --http-linger: expected seconds in [0, 86400], got 'soon'\n"},
      {{qs, "--http-public"}, "fedactor run: --http-public needs --http HOST:PORT\n"},
      {{qs, "--out"},
       "fedactor run: the required argument for option '--out' is missing (see fedactor run "
       "--help)\n"},
      {{qs, "--out", "--quiet"},
       "fedactor run: the required argument for option '--out' is missing (see fedactor run "
       "--help)\n"},
      {{qs, "--out", "a", "--out=b"},
       "fedactor run: option '--out' cannot be specified more than once (see fedactor run "
       "--help)\n"},
      {{qs, "--quiet=yes"},
       "fedactor run: option '--quiet' does not take any arguments (see fedactor run --help)\n"},
      {{qs, "other.yaml"},
       "fedactor run: more than one scenario file ('" + qs + "', 'other.yaml')\n"},
      {{}, "fedactor run: no scenario file given (see fedactor run --help)\n"},
      {{"--quiet"}, "fedactor run: no scenario file given (see fedactor run --help)\n"},
      {{"--resume", "d", "--http", "8080"},
       "fedactor run: --http is not available with --resume\n"},
      {{"--resume", "d", "--set=seed=1"},
       "fedactor run: --resume continues DIR with DIR/scenario.yaml; it takes no scenario "
       "file, --set or --out\n"},
  };
  for (const auto& [args, message] : cases) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    INFO(line);
    auto r = run_cmd(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == message);
  }
}
