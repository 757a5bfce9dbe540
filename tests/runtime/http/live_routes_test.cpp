#include "runtime/http/live_routes.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/cli/report_command.hpp"
#include "runtime/http/http_endpoint.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/report/chart_spec.hpp"
#include "runtime/report/run_data.hpp"
#include "tests/runtime/cli/chromium_page.hpp"

using fedactor::live_route;
using fedactor::live_snapshot;
using fedactor::round_record;

namespace {

round_record record(uint32_t n) {
  round_record r;
  r.round = n;
  r.mean_loss = 1.0 / n;
  r.clients = 4;
  r.clients_per_s = 2;
  r.sim_time_s = n;
  return r;
}

}  // namespace

TEST_CASE("live_route answers 404 for other paths and 405 for other methods", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  auto r = live_route("GET", "/nope", snap, "");
  CHECK(r.status == 404);
  CHECK(r.body == "not found: /nope\n");
  r = live_route("GET", "/metrics/x", snap, "");
  CHECK(r.status == 404);
  r = live_route("POST", "/metrics", snap, "");
  CHECK(r.status == 405);
  CHECK(r.body == "method not allowed: POST (GET only)\n");
  CHECK(live_route("DELETE", "/", snap, "").status == 405);
  CHECK(live_route("PUT", "/health", snap, "").status == 405);
}

TEST_CASE("live_route /health tells running or finished and the round", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  auto r = live_route("GET", "/health", snap, "");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body ==
        "{\"records\":0,\"round\":0,\"run\":\"run-1\",\"scenario\":\"quickstart\",\"state\":"
        "\"running\"}\n");
  snap.on_record(record(1));
  snap.on_record(record(2));
  snap.finish("{}");
  r = live_route("GET", "/health?x=1", snap, "");
  CHECK(r.body ==
        "{\"records\":2,\"round\":2,\"run\":\"run-1\",\"scenario\":\"quickstart\",\"state\":"
        "\"finished\"}\n");
}

TEST_CASE("live_route /metrics is the Prometheus text of the snapshot", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  snap.on_record(record(3));
  auto r = live_route("GET", "/metrics", snap, "");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body.find("\nfedactor_round 3\n") != std::string::npos);
  CHECK(r.body.find("\nfedactor_running 1\n") != std::string::npos);
}

TEST_CASE("live_route / is the report page, polling /data.json while the run goes", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  const std::string live_data = "<script type=\"application/json\" id=\"live-data\">";
  auto r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.find("waiting for the first round") != std::string::npos);
  CHECK(r.body.find("fetch('/data.json?since=0'") != std::string::npos);
  CHECK(r.body.find("http-equiv") == std::string::npos);

  snap.on_record(record(1));
  snap.on_record(record(2));
  r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.status == 200);
  CHECK(r.body.find("http-equiv") == std::string::npos);  // no reload
  CHECK(r.body.find(live_data + R"({"data_url":"/data.json","poll_ms":2000,"records":2})") !=
        std::string::npos);
  CHECK(r.body.find("/*chartjs*/") != std::string::npos);
  CHECK(r.body.find("<canvas id=\"loss-round\">") != std::string::npos);
  CHECK(r.body.find("2 sync rounds (no summary.json: the run did not end)") != std::string::npos);

  snap.finish("{\"scenario\":\"quickstart\",\"rounds\":2}");
  r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.body.find(live_data) == std::string::npos);  // ended: static
  CHECK(r.body.find("no summary.json") == std::string::npos);
  CHECK(r.body.find("<th>rounds / steps completed</th><td class=\"num\">2</td>") !=
        std::string::npos);
}

TEST_CASE("live_route /data.json has the record count and, when it moved, the charts", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  auto get = [&](const std::string& target) {
    auto r = live_route("GET", target, snap, "");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    return nlohmann::json::parse(r.body);
  };
  CHECK(get("/data.json") ==
        nlohmann::json::parse(R"({"run":"run-1","finished":false,"records":0})"));
  snap.on_record(record(1));
  snap.on_record(record(2));
  auto j = get("/data.json?since=1");
  CHECK(j.at("records") == 2);
  CHECK(j.at("finished") == false);
  const auto& charts = j.at("charts");
  REQUIRE(charts.size() > 0);
  CHECK(charts[0].at("id") == "loss-round");
  CHECK(charts[0].at("section") == "Training");
  CHECK(charts[0].at("title") == "Training loss by round");
  CHECK(charts[0].at("points") == 2);
  CHECK(charts[0].at("config").at("data").at("datasets")[0].at("data") ==
        nlohmann::json::parse(R"([{"x":1,"y":1.0},{"x":2,"y":0.5}])"));
  // The page is up to date: no charts.
  CHECK_FALSE(get("/data.json?since=2").contains("charts"));
  CHECK_FALSE(get("/data.json?x=1&since=2").contains("charts"));
  snap.finish("{}");
  CHECK(get("/data.json?since=2") ==
        nlohmann::json::parse(R"({"run":"run-1","finished":true,"records":2})"));
  for (const char* bad : {"/data.json?since=", "/data.json?since=-1", "/data.json?since=2x"}) {
    auto r = live_route("GET", bad, snap, "");
    CHECK(r.status == 400);
    CHECK(r.body.rfind("since: expected a record count, got '", 0) == 0);
  }
  CHECK(live_route("POST", "/data.json", snap, "").status == 405);
}

namespace {

// Record n of a run whose page is polled: per-edge load, and failures from record 3 on (a
// chart that appears while the page is open).
round_record live_record(uint32_t n) {
  round_record r = record(n);
  r.edges_alive = 2;
  r.edge_load = {fedactor::edge_load_counts{n, n, 0, 1.0, 0},
                 fedactor::edge_load_counts{2, 2, 0, 1.0, 0}};
  if (n >= 3) {
    r.failures = 1;
    r.failures_by.add(fedactor::failure_code::timeout);
  }
  return r;
}

// Points over every chart of records 1..n, as the page counts them.
size_t points_of(uint32_t n) {
  fedactor::live_snapshot snap{"live", "quickstart"};
  for (uint32_t k = 1; k <= n; ++k) snap.on_record(live_record(k));
  fedactor::run_data run;
  for (const auto& line : snap.records().lines)
    fedactor::add_record(run, nlohmann::json::parse(line));
  size_t points = 0;
  for (const auto& c : fedactor::report_charts({run}, {"live"})) points += c.points;
  return points;
}

std::string read_chartjs() {
  std::ifstream in(fedactor::chartjs_path(), std::ios::binary);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A live view of `snap` on 127.0.0.1, whose /data.json requests first go through `on_poll`
// (called with the poll's number, 1, 2, ...).
std::unique_ptr<fedactor::http_server> serve(fedactor::live_snapshot& snap,
                                             std::function<void(int)> on_poll) {
  auto chartjs = std::make_shared<std::string>(read_chartjs());
  auto polls = std::make_shared<std::atomic<int>>(0);
  auto at = fedactor::parse_http_endpoint("127.0.0.1:0");
  REQUIRE(at.endpoint);
  auto listening = fedactor::http_server::listen(
      *at.endpoint, [&snap, chartjs, polls, on_poll](const std::string& m, const std::string& t) {
        if (t.rfind("/data.json", 0) == 0) on_poll(++*polls);
        return live_route(m, t, snap, *chartjs);
      });
  REQUIRE(listening.server);
  return std::move(listening.server);
}

std::filesystem::path browser_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("fedactor_live_page_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("the live page updates its charts in place as records arrive, in headless chromium",
          "[http][browser]") {
  live_snapshot snap{"live", "quickstart"};
  snap.on_record(live_record(1));
  // Each of the first three polls finds one more record (the run goes on); the fourth, the end.
  auto server = serve(snap, [&snap](int poll) {
    if (poll <= 3) snap.on_record(live_record(static_cast<uint32_t>(poll) + 1));
    if (poll == 4) snap.finish("{\"scenario\":\"quickstart\",\"rounds\":4}");
  });
  const auto dir = browser_dir("grow");
  // 30 s of virtual time: the polls (2 s each) run out long before.
  const auto page = fedactor::testing::load_in_chromium(
      "http://127.0.0.1:" + std::to_string(server->bound().port) + "/", dir, 30000);
  INFO(page.log);
  CHECK(page.log.find(":CONSOLE") == std::string::npos);
  // One page load drew record 1, then three updates in place, each with more points (record 3
  // brings the failure charts, added to the page), then the end.
  CHECK(page.status.find("errors 0") != std::string::npos);
  CHECK(page.live_status == "update 1 records 2 points " + std::to_string(points_of(2)) +
                                "\nupdate 2 records 3 points " + std::to_string(points_of(3)) +
                                "\nupdate 3 records 4 points " + std::to_string(points_of(4)) +
                                "\nfinished errors 0\n");
  CHECK(points_of(2) < points_of(3));
  CHECK(points_of(3) < points_of(4));
  std::filesystem::remove_all(dir);
}
