#include "runtime/cli/report_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/report/chart_spec.hpp"
#include "runtime/report/run_data.hpp"
#include "tests/runtime/cli/chromium_page.hpp"
#include "tests/support/fedactor_cli.hpp"

namespace fs = std::filesystem;
using namespace fedactor;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("fedactor_report_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct result {
  int code = -1;
  std::string out;
  std::string err;
};

result report(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  result r;
  r.code = report_command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

const char* const one_round =
    R"({"round":1,"clients":2,"failures":0,"failures_by":{"timeout":0},"mean_loss":2.5,"sim_time_s":1.0,"clients_per_s":4.0,"live_clients":2})"
    "\n";

// Runs a small scenario with the fedactor binary into `out` (seconds).
void run_scenario(const std::string& args, const fs::path& out) {
  auto r = testing::fedactor_cli("run " + args + " --quiet --out '" + out.string() + "'", 60);
  INFO(r.all());
  REQUIRE(r.code == 0);
}

// Loads `page` in headless Chromium and checks what its script wrote into #render-status once
// the charts were drawn: every chart of `runs` drew all its points, no script error, no console
// message at all. Returns the chart ids.
std::set<std::string> check_in_browser(const fs::path& page, const std::vector<fs::path>& runs,
                                       const fs::path& work) {
  const auto loaded = testing::load_in_chromium("file://" + fs::absolute(page).string(), work);
  INFO(loaded.log);
  CHECK(loaded.log.find(":CONSOLE") == std::string::npos);  // no console message, no error
  INFO(loaded.status);
  std::vector<run_data> data;
  for (const auto& r : runs) data.push_back(load_run(r.string()));
  std::vector<std::string> ids;
  CHECK(loaded.status == testing::all_drawn_status(data, &ids));
  return {ids.begin(), ids.end()};
}

// Writes the report of `runs` with the fedactor binary, checks it in the browser.
std::set<std::string> report_in_browser(const std::vector<fs::path>& runs, const fs::path& work) {
  std::string args;
  for (const auto& r : runs) args += " '" + r.string() + "'";
  const fs::path page = work / "report.html";
  auto r = testing::fedactor_cli("report" + args + " --out '" + page.string() + "'", 30);
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("report: " + page.string() + " (", 0) == 0);
  return check_in_browser(page, runs, work);
}

}  // namespace

TEST_CASE("fedactor report refuses bad input with one line and exit 2", "[cli][report]") {
  auto dir = temp_dir("bad");
  SECTION("no run directory") {
    auto r = report({});
    CHECK(r.code == 2);
    CHECK(r.err == "fedactor report: no run directory given (see fedactor report --help)\n");
  }
  SECTION("an unknown directory") {
    auto r = report({(dir / "nope").string()});
    CHECK(r.code == 2);
    CHECK(r.err == "fedactor report: " + (dir / "nope").string() + ": no such directory\n");
  }
  SECTION("a directory without metrics.jsonl") {
    auto r = report({dir.string()});
    CHECK(r.code == 2);
    CHECK(r.err == "fedactor report: " + (dir / "metrics.jsonl").string() +
                       ": missing (not a run directory)\n");
    CHECK_FALSE(fs::exists(dir / "report.html"));
  }
  SECTION("a truncated line") {
    write(dir / "metrics.jsonl", std::string(one_round) + R"({"round":2,"clients":2,"mean_lo)");
    auto r = report({dir.string()});
    CHECK(r.code == 2);
    CHECK(r.err == "fedactor report: " + (dir / "metrics.jsonl").string() +
                       ":2: not a JSON record (truncated or corrupt line)\n");
    CHECK(r.out.empty());
    CHECK_FALSE(fs::exists(dir / "report.html"));
  }
  SECTION("an unknown option") {
    auto r = report({dir.string(), "--html"});
    CHECK(r.code == 2);
    CHECK(r.err == "fedactor report: unknown option '--html' (see fedactor report --help)\n");
  }
  SECTION("--out without a file") {
    auto r = report({dir.string(), "--out"});
    CHECK(r.code == 2);
    CHECK(r.err ==
          "fedactor report: the required argument for option '--out' is missing (see fedactor "
          "report --help)\n");
    auto empty = report({dir.string(), "--out", ""});
    CHECK(empty.code == 2);
    CHECK(empty.err == "fedactor report: --out: expected a file name, got ''\n");
    auto twice = report({dir.string(), "--out", "a.html", "--out=b.html"});
    CHECK(twice.code == 2);
    CHECK(twice.err ==
          "fedactor report: option '--out' cannot be specified more than once (see fedactor "
          "report --help)\n");
  }
  SECTION("runs in different directories without --out") {
    fs::create_directories(dir / "a" / "x");
    fs::create_directories(dir / "b" / "y");
    auto r = report({(dir / "a" / "x").string(), (dir / "b" / "y").string()});
    CHECK(r.code == 2);
    CHECK(r.err ==
          "fedactor report: the runs are in different directories: give the page's path "
          "with --out FILE.html\n");
  }
}

TEST_CASE("fedactor report --help prints the usage and its option, exit 0", "[cli][report]") {
  auto r = report({"--help"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("usage: fedactor report RUN_DIR... [--out FILE.html]\n", 0) == 0);
  CHECK(r.out.find("\n  --out FILE.html ") != std::string::npos);
  CHECK(r.out.find("\n  -h [ --help ] ") != std::string::npos);
}

TEST_CASE("fedactor report fails with one line when Chart.js is missing", "[cli][report]") {
  auto dir = temp_dir("nochart");
  write(dir / "metrics.jsonl", one_round);
  const std::string missing = (dir / "chart.min.js").string();
  setenv("FEDACTOR_CHARTJS", missing.c_str(), 1);
  CHECK(chartjs_path() == missing);
  auto r = report({dir.string()});
  unsetenv("FEDACTOR_CHARTJS");
  CHECK(r.code == 1);
  CHECK(r.err == "fedactor report: Chart.js not found at " + missing +
                     " (install libjs-chart.js or set FEDACTOR_CHARTJS)\n");
  CHECK_FALSE(fs::exists(dir / "report.html"));
}

TEST_CASE("fedactor report writes RUN_DIR/report.html for one run, PARENT/report.html for several",
          "[cli][report]") {
  CHECK(default_report_path({"runs/a"}) == "runs/a/report.html");
  CHECK(default_report_path({"runs/a", "runs/b/"}) == "runs/report.html");
  CHECK(default_report_path({"./runs/a", fs::absolute("runs/b").string()}) == "runs/report.html");
  CHECK(default_report_path({"a", "b"}) == "report.html");
  CHECK(default_report_path({"runs/a", "other/b"}).empty());
  CHECK(run_names({"a", "b", "a", "a"}) == std::vector<std::string>{"a", "b", "a (2)", "a (3)"});

  auto dir = temp_dir("write");
  fs::create_directories(dir / "one");
  fs::create_directories(dir / "two");
  write(dir / "one" / "metrics.jsonl", one_round);
  write(dir / "two" / "metrics.jsonl", one_round);
  auto r = report({(dir / "one").string()});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "report: " + (dir / "one" / "report.html").string() + " (1 run, 4 charts)\n");
  const std::string page = read(dir / "one" / "report.html");
  CHECK(page.find("<title>fedactor report: one</title>") != std::string::npos);

  r = report({(dir / "one").string(), (dir / "two").string()});
  CHECK(r.code == 0);
  CHECK(r.out == "report: " + (dir / "report.html").string() + " (2 runs, 4 charts)\n");
  CHECK(read(dir / "report.html").find("<title>fedactor report: one, two</title>") !=
        std::string::npos);

  r = report({(dir / "one").string(), "--out", (dir / "custom.html").string()});
  CHECK(r.code == 0);
  CHECK(fs::exists(dir / "custom.html"));
}

TEST_CASE("fedactor report page of a sync run draws every chart in headless chromium",
          "[cli][report][browser]") {
  auto dir = temp_dir("browser_sync");
  run_scenario(
      "examples/scenarios/quickstart.yaml --set protocol.rounds=4 --set "
      "population.clients=200 --set selection.clients_per_round=20",
      dir / "quickstart");
  auto ids = report_in_browser({dir / "quickstart"}, dir);
  CHECK(ids.count("loss-round") == 1);
  CHECK(ids.count("accuracy-round") == 1);
  CHECK(ids.count("clients-per-s") == 1);
}

TEST_CASE("fedactor report page of an async run draws every chart in headless chromium",
          "[cli][report][browser]") {
  auto dir = temp_dir("browser_async");
  run_scenario(
      "examples/scenarios/stragglers_async.yaml --set async.aggregations=8 --set "
      "population.clients=300 --set async.concurrency=10 --set async.buffer_size=10 "
      "--set selection.clients_per_round=10",
      dir / "async");
  auto ids = report_in_browser({dir / "async"}, dir);
  CHECK(ids.count("staleness") == 1);
  CHECK(ids.count("stale-discarded") == 1);
  CHECK(ids.count("updates-per-step") == 1);
  CHECK(ids.count("steps-time") == 1);
}

TEST_CASE(
    "fedactor report page of a run with events, beside a sync run, draws every chart in "
    "headless chromium",
    "[cli][report][browser]") {
  auto dir = temp_dir("browser_events");
  run_scenario("examples/scenarios/chaos.yaml --set protocol.rounds=10", dir / "chaos");
  run_scenario(
      "examples/scenarios/quickstart.yaml --set protocol.rounds=3 --set "
      "population.clients=200 --set selection.clients_per_round=20",
      dir / "quickstart");
  auto ids = report_in_browser({dir / "chaos", dir / "quickstart"}, dir);
  CHECK(ids.count("events-time") == 1);
  CHECK(ids.count("rerouted") == 1);
  CHECK(ids.count("loss-time") == 1);
}
