#include "runtime/report/run_data.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

namespace fs = std::filesystem;
using fedactor::load_run;
using fedactor::report_input_error;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("fedactor_run_data_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// load_run's error text for `dir` ("" when it loads).
std::string load_error(const fs::path& dir) {
  try {
    load_run(dir.string());
  } catch (const report_input_error& e) {
    return e.what();
  }
  return "";
}

const char* const sync_lines =
    R"({"round":1,"model_version":1,"selected":10,"clients":9,"failures":1,"failures_by":{"timeout":1,"edge_lost":0,"stale":0},"mean_loss":2.25,"wall_s":0.5,"clients_per_s":18.0,"live_clients":20,"sim_round_s":3.5,"sim_time_s":3.5,"edges_lost":1,"edges_rejoined":0,"rerouted":4,"dropped":0,"test_accuracy":0.125,"test_loss":2.5,"test_samples":100})"
    "\n"
    R"({"round":2,"model_version":2,"selected":10,"clients":10,"failures":0,"failures_by":{"timeout":0,"edge_lost":0,"stale":0},"mean_loss":1.75,"wall_s":0.25,"clients_per_s":40.0,"live_clients":18,"sim_round_s":2.0,"sim_time_s":5.5,"edges_lost":0,"edges_rejoined":1,"rerouted":0,"dropped":0,"events":[{"kind":"edge_up","target":"edge 1","trigger":"round 2","sim_time_s":3.5,"changed":1},{"kind":"bandwidth","target":"fraction 1 x20","trigger":"at 4","sim_time_s":4.0}]})"
    "\n";

}  // namespace

TEST_CASE("load_run reads a sync run's records, events and summary", "[report]") {
  auto dir = temp_dir("sync");
  write(dir / "metrics.jsonl", sync_lines);
  write(dir / "summary.json", R"({"scenario": "tiny", "protocol": "sync", "rounds": 2})");
  auto run = load_run(dir.string());
  CHECK(run.dir == dir.string());
  CHECK(run.name == "fedactor_run_data_sync");
  CHECK(run.scenario == "tiny");
  CHECK_FALSE(run.async);
  REQUIRE(run.points.size() == 2);
  const auto& a = run.points[0];
  CHECK(a.step == 1);
  CHECK(a.mean_loss == 2.25);
  CHECK(a.sim_time_s == 3.5);
  CHECK(a.wall_s == 0.5);
  CHECK(a.clients == 9);
  CHECK(a.clients_per_s == 18.0);
  CHECK(a.failures == 1);
  CHECK(a.failures_by ==
        std::map<std::string, uint64_t>{{"edge_lost", 0}, {"stale", 0}, {"timeout", 1}});
  REQUIRE(a.test_accuracy.has_value());
  CHECK(*a.test_accuracy == 0.125);
  CHECK(*a.test_loss == 2.5);
  CHECK(a.live_clients == 20);
  CHECK(a.edges_lost == 1);
  CHECK(a.rerouted == 4);
  const auto& b = run.points[1];
  CHECK(b.step == 2);
  CHECK(b.mean_loss == 1.75);
  CHECK(b.sim_time_s == 5.5);
  CHECK_FALSE(b.test_accuracy.has_value());
  CHECK_FALSE(b.test_loss.has_value());
  CHECK(b.edges_rejoined == 1);
  REQUIRE(run.events.size() == 2);
  CHECK(run.events[0].step == 2);
  CHECK(run.events[0].kind == "edge_up");
  CHECK(run.events[0].target == "edge 1");
  CHECK(run.events[0].trigger == "round 2");
  CHECK(run.events[0].sim_time_s == 3.5);
  CHECK(run.events[0].changed == 1);
  CHECK(run.events[1].kind == "bandwidth");
  CHECK(run.events[1].changed == -1);
  CHECK(run.summary["rounds"] == 2);
}

TEST_CASE("load_run reads an async run's steps and staleness", "[report]") {
  auto dir = temp_dir("async");
  write(
      dir / "metrics.jsonl",
      R"({"aggregation":1,"clients":4,"failures":0,"failures_by":{"stale":0},"mean_loss":2.0,"sim_time_s":1.5,"stale_discarded":0,"staleness_histogram":[3,1,0],"mean_decay":0.975,"updates":4})"
      "\n"
      R"({"aggregation":2,"clients":4,"failures":0,"failures_by":{"stale":2},"mean_loss":1.5,"sim_time_s":2.75,"stale_discarded":2,"staleness_histogram":[1,2,1],"mean_decay":0.925,"updates":4})");
  auto run = load_run((dir.string() + "/"));  // a trailing slash names the same directory
  CHECK(run.name == "fedactor_run_data_async");
  CHECK(run.async);
  CHECK(run.scenario.empty());
  CHECK(run.summary.is_null());  // no summary.json: the run did not end
  REQUIRE(run.points.size() == 2);
  CHECK(run.points[0].staleness_histogram == std::vector<uint64_t>{3, 1, 0});
  CHECK(run.points[0].mean_decay == 0.975);
  CHECK(run.points[1].step == 2);
  CHECK(run.points[1].stale_discarded == 2);
  CHECK(run.points[1].failures_by.at("stale") == 2);
  CHECK(run.points[1].staleness_histogram == std::vector<uint64_t>{1, 2, 1});
  CHECK(run.points[1].sim_time_s == 2.75);
}

TEST_CASE("load_run refuses unreadable run directories with one line naming the file", "[report]") {
  auto dir = temp_dir("bad");
  const std::string jsonl = (dir / "metrics.jsonl").string();
  SECTION("a directory that does not exist") {
    CHECK(load_error(dir / "nope") == (dir / "nope").string() + ": no such directory");
  }
  SECTION("a file, not a directory") {
    write(dir / "file", "x");
    CHECK(load_error(dir / "file") == (dir / "file").string() + ": not a directory");
  }
  SECTION("no metrics.jsonl") {
    CHECK(load_error(dir) == jsonl + ": missing (not a run directory)");
  }
  SECTION("an empty metrics.jsonl") {
    write(dir / "metrics.jsonl", "");
    CHECK(load_error(dir) == jsonl + ": no records");
  }
  SECTION("a truncated last line") {
    write(dir / "metrics.jsonl",
          std::string(sync_lines).substr(0, std::string(sync_lines).size() - 40));
    CHECK(load_error(dir) == jsonl + ":2: not a JSON record (truncated or corrupt line)");
  }
  SECTION("a corrupt line") {
    write(dir / "metrics.jsonl", std::string(sync_lines) + "garbage\n");
    CHECK(load_error(dir) == jsonl + ":3: not a JSON record (truncated or corrupt line)");
  }
  SECTION("an empty line") {
    write(dir / "metrics.jsonl", "\n" + std::string(sync_lines));
    CHECK(load_error(dir) == jsonl + ":1: empty line");
  }
  SECTION("a JSON value that is not an object") {
    write(dir / "metrics.jsonl", "[1, 2]\n");
    CHECK(load_error(dir) == jsonl + ":1: not a JSON object");
  }
  SECTION("a record without its round") {
    write(dir / "metrics.jsonl", R"({"mean_loss": 1, "sim_time_s": 0})"
                                 "\n");
    CHECK(load_error(dir) == jsonl + R"(:1: no "round" or "aggregation")");
  }
  SECTION("a record without mean_loss") {
    write(dir / "metrics.jsonl", R"({"round": 1, "sim_time_s": 0})"
                                 "\n");
    CHECK(load_error(dir) == jsonl + R"(:1: no "mean_loss")");
  }
  SECTION("a value of the wrong type") {
    write(dir / "metrics.jsonl", R"({"round": 1, "mean_loss": "low", "sim_time_s": 0})"
                                 "\n");
    CHECK(load_error(dir) == jsonl + R"(:1: "mean_loss" is not a number)");
  }
  SECTION("sync rounds and async steps mixed") {
    write(dir / "metrics.jsonl", std::string(sync_lines) +
                                     R"({"aggregation": 3, "mean_loss": 1, "sim_time_s": 0})"
                                     "\n");
    CHECK(load_error(dir) == jsonl + ":3: an async step among sync rounds");
  }
  SECTION("a summary.json that does not parse") {
    write(dir / "metrics.jsonl", sync_lines);
    write(dir / "summary.json", "{\"scenario\": ");
    CHECK(load_error(dir) == (dir / "summary.json").string() + ": not JSON (byte 14)");
  }
}
