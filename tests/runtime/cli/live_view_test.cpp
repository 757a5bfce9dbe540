#include "runtime/cli/live_view.hpp"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/report/run_data.hpp"
#include "tests/runtime/cli/chromium_page.hpp"
#include "tests/runtime/cli/node_process.hpp"
#include "tests/runtime/http/http_client.hpp"
#include "tests/support/test_paths.hpp"

namespace fs = std::filesystem;
using namespace fedactor;
using fedactor::testing::http_request;
using fedactor::testing::node_process;
using namespace std::chrono_literals;

namespace {

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("fedactor_live_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const std::string quickstart = FEDACTOR_SOURCE_DIR + "/examples/scenarios/quickstart.yaml";

// `fedactor run` of a small quickstart (`rounds` rounds of 20 clients) into `out`, plus `extra`.
std::vector<std::string> run_args(const fs::path& out, int rounds,
                                  const std::vector<std::string>& extra) {
  std::vector<std::string> a{"run",       quickstart,
                             "--set",     "protocol.rounds=" + std::to_string(rounds),
                             "--set",     "population.clients=200",
                             "--set",     "selection.clients_per_round=20",
                             "--quiet",   "--out",
                             out.string()};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// The process's whole "http: listening on HOST:PORT" line (its newline arrived); nullopt if
// none within 60 s.
std::optional<std::string> http_line(node_process& p) {
  if (!p.wait_for("http: listening on ", 60s)) return std::nullopt;
  const size_t at = p.output().find("http: listening on ");
  if (!p.wait_for("\n", 60s, at)) return std::nullopt;
  const std::string out = p.output();
  return out.substr(at, out.find('\n', at) - at);
}

// The port of that line; 0 if none.
uint16_t http_port(node_process& p) {
  auto line = http_line(p);
  if (!line) return 0;
  return static_cast<uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
}

// /health's JSON (null when it did not answer 200).
nlohmann::json health(uint16_t port) {
  auto r = http_request(port, "/health");
  if (r.status != 200) return nullptr;
  return nlohmann::json::parse(r.body);
}

// Polls /health until `done` holds for it (deadline 60 s); the last answer.
template <typename Pred>
nlohmann::json health_until(uint16_t port, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  nlohmann::json h;
  while (std::chrono::steady_clock::now() < deadline) {
    h = health(port);
    if (!h.is_null() && done(h)) return h;
    std::this_thread::sleep_for(20ms);  // polling interval, not synchronisation
  }
  return h;
}

// A parsed Prometheus text exposition: sample "name{labels}" -> value; the TYPE of each
// metric. Every line must be a comment (# HELP / # TYPE) or `name{labels} value`, every sample's
// metric must have a TYPE before it; a violation fails the test.
struct exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
};

double sample_value(const std::string& v) {
  if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (v == "+Inf") return std::numeric_limits<double>::infinity();
  if (v == "-Inf") return -std::numeric_limits<double>::infinity();
  size_t used = 0;
  double d = std::stod(v, &used);
  REQUIRE(used == v.size());
  return d;
}

exposition parse_prometheus(const std::string& text) {
  exposition e;
  std::set<std::string> helped;
  size_t at = 0;
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  while (at < text.size()) {
    const size_t nl = text.find('\n', at);
    const std::string line = text.substr(at, nl - at);
    at = nl + 1;
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(helped.insert(name).second);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto sp = line.find(' ', 7);
      REQUIRE(sp != std::string::npos);
      const std::string name = line.substr(7, sp - 7);
      const std::string type = line.substr(sp + 1);
      CHECK((type == "gauge" || type == "counter"));
      CHECK(e.types.emplace(name, type).second);
      continue;
    }
    REQUIRE(line[0] != '#');
    size_t i = 0;
    while (i < line.size() &&
           (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == ':'))
      ++i;
    const std::string name = line.substr(0, i);
    REQUIRE(!name.empty());
    CHECK(name.rfind("fedactor_", 0) == 0);
    CHECK(e.types.count(name) == 1);
    CHECK(helped.count(name) == 1);
    std::string key = name;
    if (line[i] == '{') {  // name="value" pairs; values may hold \\ \" \n
      const size_t open = i;
      ++i;
      bool in_value = false;
      for (; i < line.size(); ++i) {
        if (in_value && line[i] == '\\') {
          ++i;
          continue;
        }
        if (line[i] == '"') in_value = !in_value;
        if (!in_value && line[i] == '}') break;
      }
      REQUIRE(i < line.size());
      key += line.substr(open, i - open + 1);
      ++i;
    }
    REQUIRE(line[i] == ' ');
    CHECK(e.samples.emplace(key, sample_value(line.substr(i + 1))).second);
  }
  return e;
}

std::vector<nlohmann::json> records_of(const fs::path& dir) {
  std::ifstream in(dir / "metrics.jsonl");
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Checks that the figures of `e` equal those of the sync records up to round `round`.
void check_against_records(const exposition& e, const std::vector<nlohmann::json>& records,
                           uint32_t round) {
  REQUIRE(records.size() >= round);
  const auto& j = records[round - 1];
  REQUIRE(j.at("round") == round);
  CHECK(e.samples.at("fedactor_round") == round);
  CHECK(e.samples.at("fedactor_model_version") == j.at("model_version").get<double>());
  CHECK(e.samples.at("fedactor_round_clients") == j.at("clients").get<double>());
  CHECK(e.samples.at("fedactor_round_selected") == j.at("selected").get<double>());
  CHECK(e.samples.at("fedactor_round_dropped") == j.at("dropped").get<double>());
  CHECK(e.samples.at("fedactor_round_failures") == j.at("failures").get<double>());
  for (const auto& [cause, n] : j.at("failures_by").items())
    CHECK(e.samples.at("fedactor_round_failures_by_cause{cause=\"" + cause + "\"}") ==
          n.get<double>());
  CHECK(e.samples.at("fedactor_mean_loss") == j.at("mean_loss").get<double>());
  CHECK(e.samples.at("fedactor_round_wall_seconds") == j.at("wall_s").get<double>());
  CHECK(e.samples.at("fedactor_clients_per_second") == j.at("clients_per_s").get<double>());
  CHECK(e.samples.at("fedactor_live_clients") == j.at("live_clients").get<double>());
  CHECK(e.samples.at("fedactor_peak_live_clients") == j.at("peak_live_clients").get<double>());
  CHECK(e.samples.at("fedactor_evictions_total") == j.at("evictions").get<double>());
  CHECK(e.samples.at("fedactor_sim_time_seconds") == j.at("sim_time_s").get<double>());
  CHECK(e.samples.at("fedactor_sim_round_seconds") == j.at("sim_round_s").get<double>());
  CHECK(e.samples.at("fedactor_round_edges_lost") == j.at("edges_lost").get<double>());
  CHECK(e.samples.at("fedactor_round_rerouted") == j.at("rerouted").get<double>());
  // Per-edge load: edges alive of this round, the counters summed over the records up to it
  // (in record order, as the server sums them).
  CHECK(e.samples.at("fedactor_edges_alive") == j.at("edges_alive").get<double>());
  const auto edges = j.at("edge_load").size();
  REQUIRE(edges > 0);
  for (size_t edge = 0; edge < edges; ++edge) {
    double tasks = 0, updates = 0, failed = 0, busy = 0;
    for (uint32_t k = 0; k < round; ++k) {
      const auto& l = records[k].at("edge_load").at(edge);
      REQUIRE(l.at("edge") == edge);
      tasks += l.at("tasks").get<double>();
      updates += l.at("updates").get<double>();
      failed += l.at("failed").get<double>();
      busy += l.at("busy_s").get<double>();
    }
    const std::string label = "{edge=\"" + std::to_string(edge) + "\"}";
    CHECK(e.samples.at("fedactor_edge_tasks_total" + label) == tasks);
    CHECK(e.samples.at("fedactor_edge_updates_total" + label) == updates);
    CHECK(e.samples.at("fedactor_edge_failed_total" + label) == failed);
    CHECK(e.samples.at("fedactor_edge_busy_seconds_total" + label) == busy);
  }
  CHECK(e.samples.count("fedactor_edge_tasks_total{edge=\"" + std::to_string(edges) + "\"}") == 0);
  const nlohmann::json* evaluated = nullptr;
  for (uint32_t k = 0; k < round; ++k)
    if (records[k].contains("test_accuracy")) evaluated = &records[k];
  if (evaluated) {
    CHECK(e.samples.at("fedactor_evaluated_round") == evaluated->at("round").get<double>());
    CHECK(e.samples.at("fedactor_test_accuracy") == evaluated->at("test_accuracy").get<double>());
    CHECK(e.samples.at("fedactor_test_loss") == evaluated->at("test_loss").get<double>());
  } else {
    CHECK(e.samples.count("fedactor_test_accuracy") == 0);
  }
  CHECK(e.samples.at("fedactor_resident_memory_bytes") > 0);
  CHECK(e.samples.at("fedactor_peak_resident_memory_bytes") >=
        e.samples.at("fedactor_resident_memory_bytes"));
}

}  // namespace

TEST_CASE("live view options: --http, --http-public and --http-linger are taken and checked",
          "[cli][http]") {
  std::vector<std::string> args{"--http", "9000", "--http-public", "--http-linger", "2.5", "x"};
  live_view_options o;
  std::string error;
  size_t i = 0;
  CHECK(take_live_view_option(args, i, o, error));
  CHECK(i == 1);
  CHECK(o.http == "9000");
  i = 2;
  CHECK(take_live_view_option(args, i, o, error));
  CHECK(o.http_public);
  i = 3;
  CHECK(take_live_view_option(args, i, o, error));
  CHECK(i == 4);
  CHECK(o.linger_s == 2.5);
  CHECK(error.empty());
  i = 5;
  CHECK_FALSE(take_live_view_option(args, i, o, error));

  std::vector<std::string> bad{"--http-linger", "-1", "--http-linger", "soon", "--http"};
  i = 0;
  CHECK(take_live_view_option(bad, i, o, error));
  CHECK(error == "--http-linger: expected seconds in [0, 86400], got '-1'");
  error.clear();
  i = 2;
  CHECK(take_live_view_option(bad, i, o, error));
  CHECK(error == "--http-linger: expected seconds in [0, 86400], got 'soon'");
  error.clear();
  i = 4;
  CHECK(take_live_view_option(bad, i, o, error));
  CHECK(error == "--http needs a value");
}

TEST_CASE("live view check: loopback by default, a public address only with --http-public",
          "[cli][http]") {
  live_view_options o;
  auto c = check_live_view(o);
  CHECK_FALSE(c.endpoint);
  CHECK(c.error.empty());
  o.http = "8080";
  c = check_live_view(o);
  REQUIRE(c.endpoint);
  CHECK(to_string(*c.endpoint) == "127.0.0.1:8080");
  o.http = "0.0.0.0:8080";
  c = check_live_view(o);
  CHECK_FALSE(c.endpoint);
  CHECK(c.error ==
        "--http: 0.0.0.0 is not a loopback address; the live view has no authentication, pass "
        "--http-public to serve it there anyway");
  o.http_public = true;
  c = check_live_view(o);
  REQUIRE(c.endpoint);
  CHECK_FALSE(c.endpoint->loopback);
  o.http = "nowhere:1";
  CHECK(check_live_view(o).error ==
        "--http: expected PORT, HOST:PORT or [IPv6]:PORT, got 'nowhere:1' (HOST: an IP address "
        "or localhost)");
  live_view_options p;
  p.http_public = true;
  CHECK(check_live_view(p).error == "--http-public needs --http HOST:PORT");
  live_view_options l;
  l.linger_s = 3;
  CHECK(check_live_view(l).error == "--http-linger needs --http [HOST:]PORT");
}

TEST_CASE("fedactor run --http refuses a public address, a bad value and a taken port",
          "[cli][http]") {
  auto dir = temp_dir("refused");
  {
    node_process p(run_args(dir / "public", 2, {"--http", "0.0.0.0:0"}));
    REQUIRE(p.wait_exit(60s) == 2);
    CHECK(p.output() ==
          "fedactor run: --http: 0.0.0.0 is not a loopback address; the live view has no "
          "authentication, pass --http-public to serve it there anyway\n");
    CHECK_FALSE(fs::exists(dir / "public"));
  }
  {
    node_process p(run_args(dir / "bad", 2, {"--http", "127.0.0.1:99999"}));
    REQUIRE(p.wait_exit(60s) == 2);
    CHECK(p.output() ==
          "fedactor run: --http: expected PORT, HOST:PORT or [IPv6]:PORT, got "
          "'127.0.0.1:99999' (PORT: 0 to 65535)\n");
  }
  {
    auto taken = http_server::listen(parse_http_endpoint("127.0.0.1:0").endpoint.value(),
                                     [](const std::string&, const std::string&) {
                                       return http_reply{200, "text/plain", ""};
                                     });
    REQUIRE(taken.server);
    const std::string at = to_string(taken.server->bound());
    node_process p(run_args(dir / "taken", 2, {"--http", at}));
    REQUIRE(p.wait_exit(60s) == 1);
    CHECK(p.output() == "error: http: cannot listen on " + at + ": Address already in use\n");
    CHECK_FALSE(fs::exists(dir / "taken"));  // refused before anything is written
  }
}

TEST_CASE("fedactor run --http-public serves on 0.0.0.0 and stops with the run", "[cli][http]") {
  auto dir = temp_dir("public");
  node_process p(run_args(dir / "run", 2, {"--http", "0.0.0.0:0", "--http-public"}));
  const auto line = http_line(p);
  REQUIRE(line);
  CHECK(line->rfind("http: listening on 0.0.0.0:", 0) == 0);
  REQUIRE(p.wait_exit(60s) == 0);
}

TEST_CASE("fedactor run --http serves /metrics and /health mid-run, equal to metrics.jsonl",
          "[cli][http]") {
  auto dir = temp_dir("midrun");
  // Many rounds: the run is still going while the test asks; it stops it with SIGINT.
  node_process p(run_args(dir / "run", 2000, {"--set", "eval.every=1", "--http", "127.0.0.1:0"}));
  const uint16_t port = http_port(p);
  INFO(p.output());
  REQUIRE(port != 0);

  // /health answers while the run is busy: before or during the first rounds.
  auto h = health_until(port, [](const nlohmann::json& j) { return j.at("round") >= 2; });
  REQUIRE(!h.is_null());
  CHECK(h.at("state") == "running");
  CHECK(h.at("round") >= 2);
  CHECK(h.at("scenario") == "quickstart");
  CHECK(h.at("run") == "run");

  auto m = http_request(port, "/metrics");
  REQUIRE(m.status == 200);
  CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
  const auto e = parse_prometheus(m.body);
  CHECK(e.samples.at("fedactor_running") == 1);
  CHECK(e.samples.count(
            "fedactor_run_info{run=\"run\",scenario=\"quickstart\",protocol=\"sync\"}") == 1);
  const auto round = static_cast<uint32_t>(e.samples.at("fedactor_round"));
  CHECK(round >= 2);
  // metrics.jsonl gets each record before the live view does.
  check_against_records(e, records_of(dir / "run"), round);
  CHECK(e.samples.at("fedactor_records_total") == round);

  auto page = http_request(port, "/");
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  // Updated in place: no reload, a poll of /data.json.
  CHECK(page.body.find("http-equiv=\"refresh\"") == std::string::npos);
  CHECK(page.body.find("<script type=\"application/json\" id=\"live-data\">") != std::string::npos);
  auto data = http_request(port, "/data.json?since=0");
  REQUIRE(data.status == 200);
  CHECK(data.content_type == "application/json");
  const auto dj = nlohmann::json::parse(data.body);
  CHECK(dj.at("records").get<uint32_t>() >= round);
  CHECK(dj.at("charts").size() > 0);
  CHECK(page.body.find("<canvas id=\"loss-round\">") != std::string::npos);

  CHECK(http_request(port, "/nothing").status == 404);
  auto post = http_request(port, "/metrics", "POST");
  CHECK(post.status == 405);
  CHECK(post.allow == "GET");

  p.signal(SIGINT);
  const auto code = p.wait_exit(60s);
  REQUIRE(code);
  CHECK(*code == 130);
  CHECK(http_request(port, "/health").status == 0);  // stopped with the run
}

TEST_CASE("fedactor run --http-linger serves the final page, /metrics of the last round",
          "[cli][http]") {
  auto dir = temp_dir("linger");
  node_process p(run_args(dir / "run", 3, {"--http", "0", "--http-linger", "120"}));
  const uint16_t port = http_port(p);
  INFO(p.output());
  REQUIRE(port != 0);
  auto h = health_until(port, [](const nlohmann::json& j) { return j.at("state") == "finished"; });
  REQUIRE(!h.is_null());
  CHECK(h.at("state") == "finished");
  CHECK(h.at("round") == 3);
  CHECK(fs::exists(dir / "run" / "summary.json"));

  auto m = http_request(port, "/metrics");
  REQUIRE(m.status == 200);
  const auto e = parse_prometheus(m.body);
  CHECK(e.samples.at("fedactor_running") == 0);
  check_against_records(e, records_of(dir / "run"), 3);

  auto page = http_request(port, "/");
  CHECK(page.status == 200);
  CHECK(page.body.find("http-equiv=\"refresh\"") == std::string::npos);
  CHECK(page.body.find("id=\"live-data\"") == std::string::npos);  // ended: a static page
  CHECK(page.body.find("no summary.json") == std::string::npos);

  // Ctrl-C ends the linger: the run itself completed, so exit 0.
  p.signal(SIGINT);
  CHECK(p.wait_exit(60s) == 0);
  CHECK(http_request(port, "/health").status == 0);
}

TEST_CASE("fedactor run --http page of a lingering run draws every chart in headless chromium",
          "[cli][http][browser]") {
  auto dir = temp_dir("browser");
  node_process p(run_args(dir / "run", 4, {"--http", "127.0.0.1:0", "--http-linger", "200"}));
  const uint16_t port = http_port(p);
  INFO(p.output());
  REQUIRE(port != 0);
  auto h = health_until(port, [](const nlohmann::json& j) { return j.at("state") == "finished"; });
  REQUIRE(h.at("state") == "finished");

  const auto loaded =
      testing::load_in_chromium("http://127.0.0.1:" + std::to_string(port) + "/", dir);
  INFO(loaded.log);
  CHECK(loaded.log.find(":CONSOLE") == std::string::npos);  // no console message, no error
  INFO(loaded.status);
  std::vector<std::string> ids;
  CHECK(loaded.status == testing::all_drawn_status({load_run((dir / "run").string())}, &ids));
  CHECK(std::count(ids.begin(), ids.end(), "loss-round") == 1);
  CHECK(std::count(ids.begin(), ids.end(), "clients-per-s") == 1);
}
