#include "runtime/cli/run_output.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

round_record cnn_round() {
  round_record r;
  r.round = 3;
  r.mean_loss = 0.18837;
  r.clients = 10;
  r.failures = 0;
  r.wall_s = 20.5;
  r.clients_per_s = 10 / 20.5;
  return r;
}

}  // namespace

TEST_CASE("format_eta picks seconds, minutes or hours", "[cli]") {
  CHECK(format_eta(4.25) == "4.2s");
  CHECK(format_eta(65) == "1m05s");
  CHECK(format_eta(3600 + 3 * 60 + 59) == "1h03m");
}

TEST_CASE("format_rate keeps two decimals below 10 per second", "[cli]") {
  CHECK(format_rate(10 / 20.5) == "0.49");
  CHECK(format_rate(9.996) == "10.00");
  CHECK(format_rate(30123.4) == "30123");
}

TEST_CASE("a progress line without evaluation shows loss, clients, rate and time left", "[cli]") {
  auto line = progress_line(cnn_round(), false, 50, 47 * 20.5);
  CHECK(line ==
        "round 3/50  loss 0.1884  clients 10  failures 0  0.49 clients/s  20.50s  left 16m03s");
}

TEST_CASE("a progress line of an evaluated round shows test accuracy and loss", "[cli]") {
  auto r = cnn_round();
  r.evaluated = true;
  r.test_samples = 10000;
  r.test_accuracy = 0.8812;
  r.test_loss = 0.34261;
  r.eval_clients = 4;
  r.client_accuracy = 0.9;
  auto line = progress_line(r, false, 50, 47 * 20.5);
  CHECK(line ==
        "round 3/50  loss 0.1884  clients 10  failures 0  test acc 0.8812 loss 0.3426  client acc "
        "0.9000  0.49 clients/s  20.50s  left 16m03s");
}

TEST_CASE("a progress line names a failed evaluation and edge events", "[cli]") {
  auto r = cnn_round();
  r.evaluated = true;
  r.test_samples = 10000;
  r.eval_error = "evaluator: shape mismatch";
  r.edges_lost = 1;
  r.rerouted = 4;
  auto line = progress_line(r, true, 20, 0);
  CHECK(line ==
        "aggregation 3/20  loss 0.1884  clients 10  failures 0  eval failed: evaluator: shape "
        "mismatch  0.49 clients/s  20.50s  left 0.0s  edges lost 1  rerouted 4");
}

TEST_CASE("a progress line names the scripted events that fired", "[cli][events]") {
  auto r = cnn_round();
  r.edges_lost = 1;
  r.rerouted = 2;
  r.events.push_back(fired_event{"edge_down", "edge 1", "round 3", 12.5, 1});
  r.events.push_back(fired_event{"bandwidth", "fraction 1 x20", "at 10", 12.5, -1});
  CHECK(progress_line(r, false, 20, 0) ==
        "round 3/20  loss 0.1884  clients 10  failures 0  0.49 clients/s  20.50s  left 0.0s  "
        "edges lost 1  rerouted 2  events: edge_down edge 1, bandwidth fraction 1 x20");
}

TEST_CASE("the summary text adds the last evaluation only when there was one", "[cli]") {
  run_summary s;
  s.scenario = "fmnist_iid";
  s.rounds = 50;
  s.clients_trained = 500;
  s.wall_s = 1014.0;
  s.mean_clients_per_s = 500 / 1014.0;
  s.final_loss = 0.00123;
  s.model_sha256 = "ab12";
  s.model_l2 = 1.5;
  s.peak_rss_bytes = 512ull << 20;
  const std::string plain =
      "fmnist_iid: 50 rounds, 500 clients trained, 0 failures, 1014.00s, 0.49 clients/s, final "
      "loss 0.0012\nmodel sha256 ab12, l2 1.500000, peak RSS 512.0 MiB\noutput: out\n";
  CHECK(summary_text(s, "out") == plain);
  // Evaluated, but the data has no test split and eval.clients is off: nothing to show.
  s.evaluated = true;
  s.evaluated_round = 50;
  CHECK(summary_text(s, "out") == plain);
  s.test_samples = 10000;
  s.test_accuracy = 0.8945;
  s.test_loss = 0.741;
  CHECK(summary_text(s, "out") ==
        "fmnist_iid: 50 rounds, 500 clients trained, 0 failures, 1014.00s, 0.49 clients/s, final "
        "loss 0.0012\ntest accuracy 0.8945, test loss 0.7410 (round 50)\nmodel sha256 ab12, l2 "
        "1.500000, peak RSS 512.0 MiB\noutput: out\n");
  s.eval_clients = 3;
  s.client_accuracy = 0.5;
  CHECK(summary_text(s, "out").find("test loss 0.7410 (round 50)\nclient accuracy 0.5000 over 3 "
                                    "clients (round 50)\nmodel") != std::string::npos);
}

TEST_CASE("the summary text names the failures by cause when there were any", "[cli]") {
  run_summary s;
  s.scenario = "edgy";
  s.rounds = 2;
  s.clients_trained = 7;
  s.failures = 3;
  s.failures_by.add(failure_code::timeout, 2);
  s.failures_by.add(failure_code::edge_lost);
  s.failures_by.add(failure_code::stale, 4);  // discarded by design: named, not in failures
  const auto text = summary_text(s, "out");
  CHECK(text.find("7 clients trained, 3 failures,") != std::string::npos);
  CHECK(text.find("\nfailures by cause: 2 timeout, 1 edge_lost, 4 stale\n") != std::string::npos);
}

TEST_CASE("the summary text counts the norm bound's clipped and rejected updates when on",
          "[cli][robust]") {
  run_summary s;
  s.scenario = "robust";
  CHECK(summary_text(s, "out").find("norm bound") == std::string::npos);
  s.norm_bound_on = true;
  s.norm_clipped = 241;
  s.norm_rejected = 3;
  CHECK(summary_text(s, "out").find("\nnorm bound: 241 updates clipped, 3 rejected\nmodel") !=
        std::string::npos);
}

TEST_CASE("the summary text says when and by what the run was interrupted", "[cli]") {
  run_summary s;
  s.scenario = "q";
  s.protocol = "sync";
  s.rounds = 7;
  CHECK(summary_text(s, "out").find("interrupted") == std::string::npos);
  s.interrupted = true;
  s.stopped_by = "SIGINT";
  CHECK(summary_text(s, "out").find(
            "\ninterrupted (SIGINT) after 7 rounds: the model is the last completed one's\n") !=
        std::string::npos);
  s.protocol = "async";
  s.rounds = 0;
  s.stopped_by = "SIGTERM";
  CHECK(summary_text(s, "out").find(
            "\ninterrupted (SIGTERM) after 0 server steps: the model is the initial one\n") !=
        std::string::npos);
}

TEST_CASE("the stopping line names the signal, what is kept and the way out at once", "[cli]") {
  scenario sc;
  CHECK(stopping_line(SIGINT, sc) ==
        "fedactor: SIGINT: stopping; the round in progress is abandoned, the last completed "
        "round's model and the summary are written (Ctrl-C again exits at once)");
  sc.protocol.mode = protocol_mode::async;
  CHECK(stopping_line(SIGTERM, sc) ==
        "fedactor: SIGTERM: stopping; the tasks in flight are abandoned, the last server step's "
        "model and the summary are written (the signal again exits at once)");
}

TEST_CASE("claim_out_dir takes a new or run-free directory, refuses a run's unless overwrite",
          "[cli]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / "fedactor_claim_out_dir";
  fs::remove_all(dir);
  CHECK_FALSE(claim_out_dir(dir.string(), false));  // does not exist yet
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "x";
  CHECK_FALSE(claim_out_dir(dir.string(), false));  // no run in it
  std::ofstream(dir / "metrics.jsonl") << "{}\n";
  std::ofstream(dir / "model.pt") << "m";
  auto refused = claim_out_dir(dir.string(), false);
  REQUIRE(refused);
  CHECK(*refused == "--out " + dir.string() +
                        " already holds a run (metrics.jsonl, model.pt); pass --overwrite to "
                        "replace it, or choose another directory");
  CHECK(fs::exists(dir / "metrics.jsonl"));
  std::ofstream(dir / "client_state.db") << "s";
  fs::create_directories(dir / "checkpoint");
  std::ofstream(dir / "checkpoint" / "state.ckpt") << "c";
  CHECK_FALSE(claim_out_dir(dir.string(), true));
  for (const auto& f : run_files()) CHECK_FALSE(fs::exists(dir / f));
  // A later --resume must not continue the replaced run.
  CHECK_FALSE(fs::exists(dir / "checkpoint"));
  CHECK(fs::exists(dir / "notes.txt"));
  // Only a checkpoint left (a run killed before its first record): still a run.
  fs::create_directories(dir / "checkpoint");
  refused = claim_out_dir(dir.string(), false);
  REQUIRE(refused);
  CHECK(refused->find("already holds a run (checkpoint)") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a private round's progress line and a private run's summary show epsilon and the clip",
          "[cli][privacy]") {
  auto r = cnn_round();
  r.private_round = true;
  r.epsilon = 2.79312;
  r.dp_clip = 1.13855;
  CHECK(progress_line(r, false, 50, 47 * 20.5) ==
        "round 3/50  loss 0.1884  clients 10  failures 0  0.49 clients/s  20.50s  left 16m03s"
        "  eps 2.793 clip 1.139");
  run_summary s;
  s.scenario = "fmnist_dp";
  s.rounds = 100;
  s.model_sha256 = "ab12";
  s.private_run = true;
  s.epsilon = 6.8216;
  s.delta = 1e-4;
  s.final_clip = 1.2812;
  CHECK(summary_text(s, "out").find("\ndifferential privacy: (epsilon 6.822, delta 0.0001), clip "
                                    "1.281\nmodel sha256 ab12") != std::string::npos);
  s.epsilon = std::numeric_limits<double>::infinity();  // no noise
  CHECK(summary_text(s, "out").find("(epsilon inf, delta 0.0001)") != std::string::npos);
}
