#include "runtime/report/chart_spec.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

run_point point(uint32_t step, double loss, double sim_time) {
  run_point p;
  p.step = step;
  p.mean_loss = loss;
  p.sim_time_s = sim_time;
  p.clients = 5;
  p.clients_per_s = 10.0 * step;
  p.live_clients = 7;
  return p;
}

std::vector<std::string> ids(const std::vector<chart_spec>& charts) {
  std::vector<std::string> out;
  for (const auto& c : charts) out.push_back(c.id);
  return out;
}

const chart_spec& find(const std::vector<chart_spec>& charts, const std::string& id) {
  auto it =
      std::find_if(charts.begin(), charts.end(), [&](const chart_spec& c) { return c.id == id; });
  REQUIRE(it != charts.end());
  return *it;
}

}  // namespace

TEST_CASE("report_charts draws a sync run's loss, accuracy and throughput", "[report]") {
  run_data r;
  r.points = {point(1, 2.0, 1.5), point(2, 1.5, 3.0), point(3, 1.25, 4.5)};
  r.points[1].test_accuracy = 0.5;
  r.points[1].test_loss = 1.0;
  auto charts = report_charts({r}, {"one"});
  CHECK(ids(charts) == std::vector<std::string>{"loss-round", "loss-time", "accuracy-round",
                                                "accuracy-time", "test-loss-round", "clients-per-s",
                                                "live-clients"});
  const auto& loss = find(charts, "loss-round");
  CHECK(loss.section == "Training");
  CHECK(loss.points == 3);
  CHECK(loss.config["type"] == "line");
  const auto& ds = loss.config["data"]["datasets"];
  REQUIRE(ds.size() == 1);
  CHECK(ds[0]["label"] == "one");
  CHECK(ds[0]["borderColor"] == run_color(0));
  CHECK(ds[0]["data"] ==
        nlohmann::json::parse(R"([{"x":1,"y":2.0},{"x":2,"y":1.5},{"x":3,"y":1.25}])"));
  CHECK(find(charts, "loss-time").config["data"]["datasets"][0]["data"][2] ==
        nlohmann::json::parse(R"({"x":4.5,"y":1.25})"));
  CHECK(find(charts, "accuracy-round").points == 1);
  CHECK(find(charts, "accuracy-round").config["data"]["datasets"][0]["data"] ==
        nlohmann::json::parse(R"([{"x":2,"y":0.5}])"));
}

TEST_CASE("report_charts leaves out what no run has and names runs a chart cannot draw",
          "[report]") {
  run_data simulated;
  simulated.points = {point(1, 2.0, 1.0)};
  run_data wall_clock;
  wall_clock.points = {point(1, 2.5, 0.0)};
  auto charts = report_charts({simulated, wall_clock}, {"sim", "wall"});
  CHECK(ids(charts) ==
        std::vector<std::string>{"loss-round", "loss-time", "clients-per-s", "live-clients"});
  const auto& t = find(charts, "loss-time");
  CHECK(t.points == 1);
  CHECK(t.note ==
        "mean_loss at the end of each round / step. Not drawn: wall (no simulated clock).");
  CHECK(find(charts, "loss-round").config["data"]["datasets"][1]["borderColor"] == run_color(1));
}

TEST_CASE("report_charts adds failures, events, async and edge charts when a run has them",
          "[report]") {
  run_data sync;
  sync.points = {point(1, 2.0, 1.0), point(2, 1.8, 2.0)};
  sync.points[0].failures = 2;
  sync.points[0].failures_by = {{"timeout", 2}, {"stale", 0}};
  sync.points[1].rerouted = 3;
  sync.events = {{2, "edge_down", "edge 1", "round 2", 1.0, 1}};
  run_data async;
  async.async = true;
  async.points = {point(1, 2.2, 0.5), point(2, 2.0, 0.75)};
  async.points[0].staleness_histogram = {4, 1};
  async.points[1].staleness_histogram = {2, 2, 1};
  async.points[1].failures_by = {{"timeout", 1}, {"stale", 3}};
  async.points[1].stale_discarded = 3;
  auto charts = report_charts({sync, async}, {"s", "a"});
  CHECK(ids(charts) == std::vector<std::string>{"loss-round", "loss-time", "clients-per-s",
                                                "failures-by-cause", "failures-round",
                                                "live-clients", "events-time", "staleness",
                                                "stale-discarded", "updates-per-step", "steps-time",
                                                "mean-decay", "rerouted", "edges-lost"});
  const auto& f = find(charts, "failures-by-cause");
  CHECK(f.config["data"]["labels"] == nlohmann::json::parse(R"(["stale","timeout"])"));
  CHECK(f.config["data"]["datasets"][0]["data"] == nlohmann::json::parse("[0,2]"));
  CHECK(f.config["data"]["datasets"][1]["data"] == nlohmann::json::parse("[3,1]"));
  CHECK(f.points == 4);
  const auto& e = find(charts, "events-time");
  CHECK(e.points == 1);
  CHECK(e.config["data"]["datasets"][0]["data"] ==
        nlohmann::json::parse(R"([{"x":1.0,"y":"edge_down"}])"));
  CHECK(e.config["options"]["scales"]["y"]["labels"] == nlohmann::json::parse(R"(["edge_down"])"));
  const auto& s = find(charts, "staleness");
  CHECK(s.config["data"]["labels"] == nlohmann::json::parse(R"(["0","1","2"])"));
  REQUIRE(s.config["data"]["datasets"].size() == 1);
  CHECK(s.config["data"]["datasets"][0]["label"] == "a");
  CHECK(s.config["data"]["datasets"][0]["borderColor"] == run_color(1));  // the run's colour
  CHECK(s.config["data"]["datasets"][0]["data"] == nlohmann::json::parse("[6,3,1]"));
  const auto& d = find(charts, "stale-discarded");
  CHECK(d.points == 2);
  CHECK(d.config["data"]["datasets"][0]["data"] ==
        nlohmann::json::parse(R"([{"x":1,"y":0.0},{"x":2,"y":3.0}])"));
  CHECK(find(charts, "rerouted").points == 4);
  // Counts are read from zero, losses are not; simulated time starts at zero.
  CHECK(d.config["options"]["scales"]["y"]["beginAtZero"] == true);
  CHECK_FALSE(find(charts, "loss-round").config["options"]["scales"]["y"].contains("beginAtZero"));
  CHECK(find(charts, "loss-time").config["options"]["scales"]["x"]["beginAtZero"] == true);
}

TEST_CASE("report_charts draws per-edge load, one dataset per edge, and edges alive", "[report]") {
  run_data with;
  with.points = {point(1, 2.0, 1.0), point(2, 1.8, 2.0), point(3, 1.7, 3.0)};
  for (auto& p : with.points) {
    p.edges_alive = p.step == 2 ? 1 : 2;
    p.edge_load = {run_edge_load{p.step + 1, p.step, 1, 0.5, 0}, run_edge_load{2, 2, 0, 1.0, 0}};
  }
  run_data without;  // written before per-edge load was recorded
  without.points = {point(1, 2.1, 1.0)};
  auto charts = report_charts({with, without}, {"new", "old"});
  const auto& load = find(charts, "edge-load");
  CHECK(load.section == "Edges");
  CHECK(load.note.find("Not drawn: old (no edge_load in its records).") != std::string::npos);
  const auto& sets = load.config["data"]["datasets"];
  REQUIRE(sets.size() == 2);
  CHECK(sets[0]["label"] == "new edge 0");
  CHECK(sets[1]["label"] == "new edge 1");
  CHECK(sets[0]["borderColor"] == run_color(0));  // coloured by edge
  CHECK(sets[1]["borderColor"] == run_color(1));
  CHECK(sets[0]["data"] == nlohmann::json::parse(R"([{"x":1,"y":2},{"x":2,"y":3},{"x":3,"y":4}])"));
  CHECK(sets[1]["data"] == nlohmann::json::parse(R"([{"x":1,"y":2},{"x":2,"y":2},{"x":3,"y":2}])"));
  CHECK(load.points == 6);
  CHECK(load.config["options"]["scales"]["y"]["beginAtZero"] == true);
  const auto& alive = find(charts, "edges-alive");
  REQUIRE(alive.config["data"]["datasets"].size() == 1);
  CHECK(alive.config["data"]["datasets"][0]["data"] ==
        nlohmann::json::parse(R"([{"x":1,"y":2.0},{"x":2,"y":1.0},{"x":3,"y":2.0}])"));
  CHECK(alive.points == 3);
  // A lone run's datasets are named by the edge alone; no run with the fields: no charts.
  auto one = report_charts({with}, {"new"});
  CHECK(find(one, "edge-load").config["data"]["datasets"][1]["label"] == "edge 1");
  auto none = ids(report_charts({without}, {"old"}));
  CHECK(std::count(none.begin(), none.end(), "edge-load") == 0);
  CHECK(std::count(none.begin(), none.end(), "edges-alive") == 0);
}
