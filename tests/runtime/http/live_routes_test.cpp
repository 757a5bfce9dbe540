#include "runtime/http/live_routes.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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

TEST_CASE("live_route / is the report page, reloading while the run goes", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  const std::string refresh = "<meta http-equiv=\"refresh\" content=\"2\">";
  auto r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.find("waiting for the first round") != std::string::npos);
  CHECK(r.body.find(refresh) != std::string::npos);

  snap.on_record(record(1));
  snap.on_record(record(2));
  r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.status == 200);
  CHECK(r.body.find(refresh) != std::string::npos);
  CHECK(r.body.find("/*chartjs*/") != std::string::npos);
  CHECK(r.body.find("<canvas id=\"loss-round\">") != std::string::npos);
  CHECK(r.body.find("2 sync rounds (no summary.json: the run did not end)") != std::string::npos);

  snap.finish("{\"scenario\":\"quickstart\",\"rounds\":2}");
  r = live_route("GET", "/", snap, "/*chartjs*/");
  CHECK(r.body.find(refresh) == std::string::npos);
  CHECK(r.body.find("no summary.json") == std::string::npos);
  CHECK(r.body.find("<th>rounds / steps completed</th><td class=\"num\">2</td>") !=
        std::string::npos);
}
