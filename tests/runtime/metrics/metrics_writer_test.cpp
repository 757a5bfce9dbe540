#include "runtime/metrics/metrics_writer.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir =
      fs::temp_directory_path() / ("fedactor_metrics_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

round_record sync_round() {
  round_record r;
  r.round = 4;
  r.model_version = 4;
  r.selected = 10;
  r.clients = 9;
  r.failures = 1;
  r.failures_by.add(failure_code::timeout);
  r.mean_loss = 0.25;
  r.dropped = 1;
  return r;
}

}  // namespace

TEST_CASE("a sync round record has its fields and no evaluation unless evaluated", "[metrics]") {
  auto j = nlohmann::json::parse(to_json(sync_round()));
  CHECK(j["round"] == 4);
  CHECK(j["clients"] == 9);
  CHECK(j["failures"] == 1);
  CHECK(j["failures_by"] == nlohmann::json{{"timeout", 1},
                                           {"edge_lost", 0},
                                           {"invalid_update", 0},
                                           {"stale", 0},
                                           {"client_error", 0},
                                           {"unavailable", 0}});
  CHECK(j["mean_loss"] == 0.25);
  CHECK(j["dropped"] == 1);
  CHECK_FALSE(j.contains("aggregation"));
  CHECK_FALSE(j.contains("updates"));
  CHECK_FALSE(j.contains("test_accuracy"));
  CHECK_FALSE(j.contains("client_accuracy"));
  CHECK_FALSE(j.contains("failure_reasons"));
}

TEST_CASE("an evaluated record carries test figures only when there was a test split",
          "[metrics]") {
  auto r = sync_round();
  r.evaluated = true;  // data without a test split, eval.clients off
  auto j = nlohmann::json::parse(to_json(r));
  CHECK_FALSE(j.contains("test_accuracy"));
  CHECK_FALSE(j.contains("client_accuracy"));
  r.test_samples = 10000;
  r.test_accuracy = 0.875;
  r.test_loss = 0.5;
  r.eval_clients = 3;
  r.client_accuracy = 0.75;
  j = nlohmann::json::parse(to_json(r));
  CHECK(j["test_accuracy"] == 0.875);
  CHECK(j["test_loss"] == 0.5);
  CHECK(j["test_samples"] == 10000);
  CHECK(j["client_accuracy"] == 0.75);
  CHECK(j["eval_clients"] == 3);
  r.evaluated = false;
  r.eval_error = "evaluation: bad shape";
  j = nlohmann::json::parse(to_json(r));
  CHECK_FALSE(j.contains("test_accuracy"));
  CHECK(j["eval_error"] == "evaluation: bad shape");
}

TEST_CASE("an async record is keyed by aggregation and has the staleness fields", "[metrics]") {
  round_record r;
  r.async = true;
  r.round = 2;
  r.clients = 5;
  r.stale_discarded = 3;
  r.staleness_histogram = {2, 2, 1};
  r.mean_decay = 0.9;
  r.failure_reasons = {"client 7: timeout"};
  auto j = nlohmann::json::parse(to_json(r));
  CHECK(j["aggregation"] == 2);
  CHECK_FALSE(j.contains("round"));
  CHECK(j["updates"] == 5);
  CHECK(j["stale_discarded"] == 3);
  CHECK(j["staleness_histogram"] == nlohmann::json::array({2, 2, 1}));
  CHECK(j["mean_decay"] == 0.9);
  CHECK_FALSE(j.contains("dropped"));
  CHECK(j["failure_reasons"][0] == "client 7: timeout");
}

TEST_CASE("note_evaluation keeps the last evaluated round, and the summary shows what it had",
          "[metrics]") {
  run_summary s;
  s.scenario = "x";
  s.protocol = "sync";
  note_evaluation(s, sync_round());  // not evaluated: nothing taken
  CHECK_FALSE(s.evaluated);
  auto j = nlohmann::json::parse(to_json(s));
  CHECK_FALSE(j.contains("evaluated_round"));
  auto r = sync_round();
  r.evaluated = true;  // no test split, no client evaluation
  note_evaluation(s, r);
  j = nlohmann::json::parse(to_json(s));
  CHECK_FALSE(j.contains("evaluated_round"));
  CHECK_FALSE(j.contains("test_accuracy"));
  r.round = 7;
  r.test_samples = 100;
  r.test_accuracy = 0.5;
  r.test_loss = 1.25;
  note_evaluation(s, r);
  j = nlohmann::json::parse(to_json(s));
  CHECK(j["evaluated_round"] == 7);
  CHECK(j["test_accuracy"] == 0.5);
  CHECK(j["test_loss"] == 1.25);
  CHECK(j["test_samples"] == 100);
  CHECK_FALSE(j.contains("client_accuracy"));
  CHECK_FALSE(j.contains("total_updates"));  // sync
  s.protocol = "async";
  s.total_updates = 40;
  j = nlohmann::json::parse(to_json(s));
  CHECK(j["total_updates"] == 40);
}

TEST_CASE("the summary says whether the run was interrupted, and by what", "[metrics]") {
  run_summary s;
  s.scenario = "x";
  s.protocol = "sync";
  s.rounds = 3;
  auto j = nlohmann::json::parse(to_json(s));
  CHECK(j["interrupted"] == false);
  CHECK_FALSE(j.contains("stopped_by"));
  s.interrupted = true;
  s.stopped_by = "SIGTERM";
  j = nlohmann::json::parse(to_json(s));
  CHECK(j["interrupted"] == true);
  CHECK(j["stopped_by"] == "SIGTERM");
  CHECK(j["rounds"] == 3);
}

TEST_CASE("the summary carries the refusal counts by reason when they are set", "[metrics]") {
  run_summary s;
  s.scenario = "x";
  s.protocol = "sync";
  auto j = nlohmann::json::parse(to_json(s));
  CHECK_FALSE(j.contains("wire_rejects"));
  CHECK_FALSE(j.contains("refused_answers"));
  CHECK_FALSE(j.contains("refused_results"));
  CHECK_FALSE(j.contains("refused_peers"));
  s.refusals = true;
  s.wire_rejects = {{"param_count", 0}, {"outcome_tag", 4}};
  s.refused_answers = {{"wrong_round", 2}, {"overflow", 0}};
  s.refused_results = {{"wrong_shape", 5}, {"non_finite", 0}};
  j = nlohmann::json::parse(to_json(s));
  CHECK(j["refused_results"] == nlohmann::json{{"wrong_shape", 5}, {"non_finite", 0}});
  CHECK(j["wire_rejects"] == nlohmann::json{{"param_count", 0}, {"outcome_tag", 4}});
  CHECK(j["refused_answers"] == nlohmann::json{{"wrong_round", 2}, {"overflow", 0}});
  CHECK_FALSE(j.contains("refused_peers"));  // no guard
  s.refused_peers = {{"malformed_frame", 1}, {"truncated_frame", 3}};
  j = nlohmann::json::parse(to_json(s));
  CHECK(j["refused_peers"] == nlohmann::json{{"malformed_frame", 1}, {"truncated_frame", 3}});
}

TEST_CASE("a DP round record and summary carry epsilon, delta and the clip, and no noise is null",
          "[metrics]") {
  auto r = sync_round();
  auto j = nlohmann::json::parse(to_json(r));
  CHECK_FALSE(j.contains("epsilon"));
  CHECK_FALSE(j.contains("dp_clip"));
  r.private_round = true;
  r.dp_clip = 0.5;
  r.dp_noise_std = 0.55;
  r.dp_unclipped = 7;
  r.dp_next_clip = 0.45;
  r.epsilon = 1.25;
  r.delta = 1e-5;
  j = nlohmann::json::parse(to_json(r));
  CHECK(j["dp_clip"] == 0.5);
  CHECK(j["dp_noise_std"] == 0.55);
  CHECK(j["dp_unclipped"] == 7);
  CHECK(j["dp_next_clip"] == 0.45);
  CHECK(j["epsilon"] == 1.25);
  CHECK(j["delta"] == 1e-5);
  r.epsilon = std::numeric_limits<double>::infinity();
  CHECK(nlohmann::json::parse(to_json(r))["epsilon"].is_null());

  run_summary s;
  s.protocol = "sync";
  CHECK_FALSE(nlohmann::json::parse(to_json(s)).contains("epsilon"));
  s.private_run = true;
  s.epsilon = 2.5;
  s.delta = 1e-6;
  s.final_clip = 0.3;
  auto k = nlohmann::json::parse(to_json(s));
  CHECK(k["epsilon"] == 2.5);
  CHECK(k["delta"] == 1e-6);
  CHECK(k["dp_final_clip"] == 0.3);
}

TEST_CASE("the metrics writer appends one line per record and writes the summary", "[metrics]") {
  auto dir = fresh_dir("write");
  {
    metrics_writer w{(dir / "nested" / "run").string()};
    auto r = sync_round();
    w.write(r);
    // Flushed per record: a crash after this point keeps the round.
    CHECK(read(dir / "nested" / "run" / "metrics.jsonl") == to_json(r) + "\n");
    r.round = 5;
    w.write(r);
    run_summary s;
    s.scenario = "x";
    w.write_summary(s);
    w.write_text("scenario.yaml", "name: x\n");
  }
  auto run = dir / "nested" / "run";
  std::ifstream lines(run / "metrics.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["round"] == 4 + n);
    ++n;
  }
  CHECK(n == 2);
  CHECK(nlohmann::json::parse(read(run / "summary.json"))["scenario"] == "x");
  CHECK(read(run / "scenario.yaml") == "name: x\n");
  fs::remove_all(dir);
}

TEST_CASE("the metrics writer names the path it cannot create", "[metrics]") {
  auto dir = fresh_dir("blocked");
  fs::create_directories(dir);
  std::ofstream(dir / "file") << "not a directory";
  const auto target = (dir / "file" / "run").string();
  try {
    metrics_writer w{target};
    FAIL("no error for " << target);
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()}.find("cannot create output directory " + target) == 0);
  }
  fs::remove_all(dir);
}

TEST_CASE("the metrics writer resumed after N records cuts the lines after them and appends",
          "[metrics]") {
  auto dir = fresh_dir("resume");
  fs::create_directories(dir);
  // Three complete records, then a line torn by the crash.
  std::ofstream(dir / "metrics.jsonl") << "{\"round\":1}\n{\"round\":2}\n{\"round\":3}\n{\"rou";
  {
    metrics_writer w{dir.string(), 2};
    CHECK(read(dir / "metrics.jsonl") == "{\"round\":1}\n{\"round\":2}\n");
    auto r = sync_round();
    r.round = 3;
    w.write(r);
    CHECK(read(dir / "metrics.jsonl") == "{\"round\":1}\n{\"round\":2}\n" + to_json(r) + "\n");
  }
  // A torn line does not count as a record.
  std::ofstream(dir / "metrics.jsonl") << "{\"round\":1}\n{\"rou";
  CHECK_THROWS_WITH(
      (metrics_writer{dir.string(), 2}),
      (dir / "metrics.jsonl").string() + ": 1 complete records, the checkpoint is after 2");
  CHECK_THROWS_AS((metrics_writer{(dir / "none").string(), 0}), checkpoint_error);
  // After 0 records (a checkpoint before the first line): an empty file.
  metrics_writer empty{dir.string(), 0};
  CHECK(read(dir / "metrics.jsonl").empty());
  fs::remove_all(dir);
}

TEST_CASE("peak RSS is read from /proc and covers this process's memory", "[metrics]") {
  CHECK(peak_rss_bytes() > 1024 * 1024);
}

TEST_CASE("a record lists the scripted events that fired in it, and only then",
          "[metrics][events]") {
  auto r = sync_round();
  CHECK_FALSE(nlohmann::json::parse(to_json(r)).contains("events"));
  r.events = {fired_event{"edge_down", "edge 1", "round 4", 3.5, 1},
              fired_event{"bandwidth", "fraction 0.5 x4", "at 3", 3.5, -1}};
  const auto j = nlohmann::json::parse(to_json(r));
  CHECK(j["events"] == nlohmann::json::parse(
                           R"([{"kind": "edge_down", "target": "edge 1", "trigger": "round 4",
                                "sim_time_s": 3.5, "changed": 1},
                               {"kind": "bandwidth", "target": "fraction 0.5 x4",
                                "trigger": "at 3", "sim_time_s": 3.5}])"));
}

TEST_CASE("docs/outputs.md names every key of metrics.jsonl and summary.json", "[metrics]") {
  std::ifstream in(FEDACTOR_SOURCE_DIR + "/docs/outputs.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  auto all_keys_documented = [&](const nlohmann::json& j) {
    for (auto& [key, value] : j.items()) {
      INFO(key);
      CHECK(doc.find("`" + key + "`") != std::string::npos);
    }
  };
  // Records and a summary with every optional part present.
  for (bool async : {false, true}) {
    auto r = sync_round();
    r.async = async;
    r.evaluated = true;
    r.test_samples = 10;
    r.eval_clients = 2;
    r.eval_error = "x";
    r.failure_reasons = {"client 1: x"};
    r.events = {fired_event{"edge_down", "edge 1", "round 4", 3.5, 1}};
    r.private_round = true;
    r.edge_load.resize(1);
    r.net_bytes_counted = true;
    const auto j = nlohmann::json::parse(to_json(r));
    all_keys_documented(j);
    all_keys_documented(j["net_bytes_down_by_message"]);
    all_keys_documented(j["edge_load"][0]);
    for (auto& [key, value] : j["events"][0].items()) {
      INFO(key);
      CHECK(doc.find("`" + key + "`") != std::string::npos);
    }
  }
  run_summary s;
  s.protocol = "async";
  s.evaluated = true;
  s.test_samples = 10;
  s.eval_clients = 2;
  s.interrupted = true;
  s.stopped_by = "SIGINT";
  s.private_run = true;
  s.refusals = true;
  s.wire_rejects = {{"param_count", 1}};
  s.refused_answers = {{"wrong_round", 2}};
  s.refused_results = {{"non_finite", 1}};
  s.refused_peers = {{"truncated_frame", 3}};
  s.edge_totals.resize(1);
  s.net_bytes_counted = true;
  const auto sj = nlohmann::json::parse(to_json(s));
  all_keys_documented(sj["edge_totals"][0]);
  all_keys_documented(sj);
  for (const char* part : {"wire_rejects", "refused_answers", "refused_results", "refused_peers"})
    all_keys_documented(sj[part]);
}

TEST_CASE("a node server's record and summary write their bytes by message kind", "[metrics]") {
  auto r = sync_round();
  CHECK_FALSE(nlohmann::json::parse(to_json(r)).contains("net_bytes_down_by_message"));
  r.net_bytes_counted = true;
  r.net_bytes_down = 1100;
  r.net_bytes_up = 2000;
  r.net_bytes_down_by_message = {500, 400, 0, 0, 64, 0};
  r.net_bytes_up_by_message = {0, 0, 1500, 300, 36, 2};
  const auto j = nlohmann::json::parse(to_json(r));
  CHECK(
      j["net_bytes_down_by_message"] ==
      nlohmann::json::parse(
          R"({"task": 500, "model": 400, "result": 0, "aggregate": 0, "control": 64, "other": 0})"));
  CHECK(
      j["net_bytes_up_by_message"] ==
      nlohmann::json::parse(
          R"({"task": 0, "model": 0, "result": 1500, "aggregate": 300, "control": 36, "other": 2})"));
  run_summary s;
  s.net_bytes_counted = true;
  s.net_bytes_up_by_message = {1, 2, 3, 4, 5, 6};
  const auto sj = nlohmann::json::parse(to_json(s));
  CHECK(sj["net_bytes_up_by_message"] ==
        nlohmann::json::parse(
            R"({"task": 1, "model": 2, "result": 3, "aggregate": 4, "control": 5, "other": 6})"));
  CHECK(sj["net_bytes_down_by_message"]["task"] == 0);
}

TEST_CASE("a record with per-edge load writes edges_alive and one edge_load entry per edge",
          "[metrics]") {
  auto r = sync_round();
  auto j = nlohmann::json::parse(to_json(r));
  CHECK_FALSE(j.contains("edges_alive"));  // not recorded: nothing written
  CHECK_FALSE(j.contains("edge_load"));
  r.edges_alive = 1;
  r.edge_load = {edge_load_counts{5, 4, 1, 12.5, 0}, edge_load_counts{0, 0, 0, 0, 0}};
  j = nlohmann::json::parse(to_json(r));
  CHECK(j["edges_alive"] == 1);
  CHECK(j["edge_load"] ==
        nlohmann::json::parse(
            R"([{"edge": 0, "tasks": 5, "updates": 4, "failed": 1, "busy_s": 12.5},
                                  {"edge": 1, "tasks": 0, "updates": 0, "failed": 0, "busy_s": 0.0}])"));
  // Async steps add the tasks in flight.
  r.async = true;
  r.edge_load[1].in_flight = 3;
  j = nlohmann::json::parse(to_json(r));
  CHECK(j["edge_load"][0]["in_flight"] == 0);
  CHECK(j["edge_load"][1]["in_flight"] == 3);
}

TEST_CASE("the summary gets per-edge totals of every record, a resumed run's kept ones included",
          "[metrics]") {
  auto dir = fresh_dir("edge_totals");
  auto r = sync_round();
  r.edges_alive = 2;
  r.edge_load = {edge_load_counts{5, 4, 1, 12.5, 0}, edge_load_counts{3, 3, 0, 2.25, 0}};
  {
    metrics_writer w{dir.string()};
    w.write(r);
    r.round = 5;
    r.edge_load = {edge_load_counts{2, 1, 1, 0.5, 0}, edge_load_counts{4, 4, 0, 1.0, 0}};
    w.write(r);
    w.write(sync_round());  // a record without edge_load adds nothing
    w.write_summary(run_summary{});
  }
  const auto totals = R"([{"edge": 0, "tasks": 7, "updates": 5, "failed": 2, "busy_s": 13.0},
                          {"edge": 1, "tasks": 7, "updates": 7, "failed": 0, "busy_s": 3.25}])";
  CHECK(nlohmann::json::parse(read(dir / "summary.json"))["edge_totals"] ==
        nlohmann::json::parse(totals));
  {
    // Resumed after the first two records: they count, the third line is cut off.
    metrics_writer w{dir.string(), 2};
    CHECK(w.edge_totals().size() == 2);
    r.round = 6;
    r.edge_load = {edge_load_counts{1, 1, 0, 1.0, 0}, edge_load_counts{0, 0, 0, 0.0, 0}};
    w.write(r);
    w.write_summary(run_summary{});
  }
  CHECK(nlohmann::json::parse(read(dir / "summary.json"))["edge_totals"] ==
        nlohmann::json::parse(
            R"([{"edge": 0, "tasks": 8, "updates": 6, "failed": 2, "busy_s": 14.0},
                {"edge": 1, "tasks": 7, "updates": 7, "failed": 0, "busy_s": 3.25}])"));
  // A run without per-edge load has no edge_totals.
  auto plain = fresh_dir("no_edge_totals");
  {
    metrics_writer w{plain.string()};
    w.write(sync_round());
    w.write_summary(run_summary{});
  }
  CHECK_FALSE(nlohmann::json::parse(read(plain / "summary.json")).contains("edge_totals"));
  fs::remove_all(dir);
  fs::remove_all(plain);
}
