// Tests of runtime/cli/resume_command.* (`fedactor run --resume DIR`): a `fedactor run` process
// killed with SIGKILL at several points (after the first checkpoint, in the middle of a round,
// in the middle of a FedBuff buffer, and again while resuming) and resumed ends with the
// uninterrupted run's model digest and a metrics.jsonl with every round once; a damaged or
// missing checkpoint, or a scenario given with --resume, exits 2 with one line. The processes
// are killed on a progress line they print, never after a sleep, and every wait is bounded.

#include "runtime/cli/resume_command.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/runtime/cli/node_process.hpp"

namespace fs = std::filesystem;
using fedactor::testing::node_process;
using namespace std::chrono_literals;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() /
             ("fedactor_resume_" + name + "_" + std::to_string(static_cast<long>(getpid())));
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

// A small learnable scenario: 8 sync rounds (or 8 FedBuff steps), a checkpoint every 2.
fs::path write_scenario(const fs::path& dir, bool async) {
  const auto file = dir / "scenario.yaml";
  std::ofstream out(file);
  out << "name: resume\nseed: 5\npopulation:\n  clients: 400\ndata:\n  kind: teacher\n"
         "eval:\n  every: 4\ntopology:\n  edges: 2\nselection:\n  clients_per_round: 30\n"
         "pool:\n  max_live_clients: 40\n  trainers: 1\ncheckpoint:\n  every: 2\n";
  if (async)
    out << "protocol:\n  mode: async\nasync:\n  concurrency: 24\n  buffer_size: 6\n"
           "  staleness_threshold: 3\n  aggregations: 8\n";
  else
    out << "protocol:\n  rounds: 8\n";
  return file;
}

// Runs to the end; the exit code and the output.
std::pair<int, std::string> run_to_end(std::vector<std::string> args) {
  node_process p(std::move(args));
  auto code = p.wait_exit(300s);
  REQUIRE(code);
  p.wait_for("\x01\x02", 60s);  // returns at the end of the output (the child is gone)
  return {*code, p.output()};
}

// Starts `args`, kills it with SIGKILL when it prints `line`.
void kill_at(std::vector<std::string> args, const std::string& line) {
  node_process p(std::move(args));
  REQUIRE(p.wait_for(line, 300s));
  p.signal(SIGKILL);
  REQUIRE(p.wait_exit(60s) == 128 + SIGKILL);
}

std::string digest(const fs::path& run) {
  return nlohmann::json::parse(read(run / "summary.json")).at("model_sha256").get<std::string>();
}

// Every record of metrics.jsonl in order: 1..n exactly once each.
std::vector<nlohmann::json> records(const fs::path& run, const char* key) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read(run / "metrics.jsonl"));
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  for (size_t i = 0; i < out.size(); ++i) CHECK(out[i].at(key).get<uint32_t>() == i + 1);
  return out;
}

// The resumed run's metrics agree with the uninterrupted one's, wall-clock figures apart.
void check_same_metrics(const fs::path& full, const fs::path& resumed, const char* key) {
  const auto a = records(full, key), b = records(resumed, key);
  REQUIRE(a.size() == 8);
  REQUIRE(b.size() == 8);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(b[i].at("mean_loss") == a[i].at("mean_loss"));
    CHECK(b[i].at("clients") == a[i].at("clients"));
    CHECK(b[i].at("model_version") == a[i].at("model_version"));
    CHECK(b[i].at("sim_time_s") == a[i].at("sim_time_s"));
    CHECK(b[i].value("test_accuracy", -1.0) == a[i].value("test_accuracy", -1.0));
  }
}

}  // namespace

TEST_CASE("fedactor run --resume after kill -9 gives the uninterrupted sync run's digest",
          "[cli][checkpoint]") {
  const auto dir = temp_dir("sync");
  const auto file = write_scenario(dir, false);
  const auto full = dir / "full";
  REQUIRE(run_to_end({"run", file.string(), "--out", full.string(), "--quiet"}).first == 0);
  // "round 3/8" comes after the checkpoint of round 2 (written once round 2's record is):
  // killed after the first checkpoint; "round 5/8": in the middle of round 6.
  for (const std::string at : {"round 3/8", "round 5/8"}) {
    CAPTURE(at);
    const auto run = dir / ("killed_" + at.substr(6, 1));
    kill_at({"run", file.string(), "--out", run.string()}, at);
    auto [code, out] = run_to_end({"run", "--resume", run.string(), "--quiet"});
    CHECK(code == 0);
    CHECK(out.find("model sha256 " + digest(full)) != std::string::npos);
    CHECK(digest(run) == digest(full));
    check_same_metrics(full, run, "round");
  }
  fs::remove_all(dir);
}

TEST_CASE("fedactor run --resume after kill -9 mid-buffer gives the async run's digest",
          "[cli][checkpoint]") {
  const auto dir = temp_dir("async");
  const auto file = write_scenario(dir, true);
  const auto full = dir / "full";
  REQUIRE(run_to_end({"run", file.string(), "--out", full.string(), "--quiet"}).first == 0);
  // Killed after step 5 (checkpoint 4, the buffer of step 6 filling), then the resumed process
  // killed again after step 7 (its own checkpoint 6), then resumed once more.
  const auto run = dir / "killed";
  kill_at({"run", file.string(), "--out", run.string()}, "aggregation 5/8");
  kill_at({"run", "--resume", run.string()}, "aggregation 7/8");
  auto [code, out] = run_to_end({"run", "--resume", run.string(), "--quiet"});
  CHECK(code == 0);
  CHECK(digest(run) == digest(full));
  check_same_metrics(full, run, "aggregation");
  fs::remove_all(dir);
}

TEST_CASE("fedactor run --resume refuses a damaged or missing checkpoint with exit code 2",
          "[cli][checkpoint]") {
  const auto dir = temp_dir("refuse");
  const auto file = write_scenario(dir, false);
  const auto run = dir / "run";
  REQUIRE(run_to_end({"run", file.string(), "--out", run.string(), "--quiet"}).first == 0);
  const auto state = run / "checkpoint" / "state.ckpt";
  {
    std::fstream f(state, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  auto [code, out] = run_to_end({"run", "--resume", run.string(), "--quiet"});
  CHECK(code == 2);
  CHECK(out == "error: " + state.string() + ": damaged checkpoint (checksum mismatch)\n");
  fs::remove_all(run / "checkpoint");
  std::tie(code, out) = run_to_end({"run", "--resume", run.string(), "--quiet"});
  CHECK(code == 2);
  CHECK(out == "error: " + state.string() + ": no checkpoint (the file does not exist)\n");
  std::tie(code, out) =
      run_to_end({"run", "--resume", run.string(), file.string(), "--set", "seed=6"});
  CHECK(code == 2);
  CHECK(out ==
        "fedactor run: --resume continues DIR with DIR/scenario.yaml; it takes no scenario "
        "file, --set or --out\n");
  std::tie(code, out) = run_to_end({"run", "--resume", (dir / "nothing").string()});
  CHECK(code == 2);
  CHECK(out == "error: --resume " + (dir / "nothing").string() + ": not a run directory\n");
  fs::remove_all(dir);
}
