// The output directory and console lines of a run (fedactor run, fedactor node server).

#include "runtime/cli/run_output.hpp"

#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

#include "messages/wire_rejects.hpp"
#include "runtime/cli/signal_watch.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/protocol/answer_refusals.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

std::optional<std::string> load_run_scenario(const std::string& file,
                                             const std::vector<std::string>& overrides,
                                             scenario& sc) {
  if (auto err = load_scenario_file(file, sc)) return err->message;
  for (const auto& o : overrides)
    if (auto err = apply_override(o, sc)) return err->message;
  if (auto err = validate(sc)) return err->message;
  return std::nullopt;
}

std::optional<std::string> prepare_new_run(const std::string& file,
                                           const std::vector<std::string>& overrides,
                                           bool overwrite, scenario& sc, std::string& out_dir) {
  if (auto err = load_run_scenario(file, overrides, sc)) return err;
  if (out_dir.empty()) out_dir = default_out_dir(sc);
  return claim_out_dir(out_dir, overwrite);
}

std::string format_eta(double seconds) {
  char buf[32];
  if (seconds >= 3600)
    std::snprintf(buf, sizeof(buf), "%dh%02dm", int(seconds / 3600), int(seconds / 60) % 60);
  else if (seconds >= 60)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", int(seconds / 60), int(seconds) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  return buf;
}

std::string default_out_dir(const scenario& s) {
  auto now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + s.name + "-" + stamp;
}

const std::vector<std::string>& run_files() {
  static const std::vector<std::string> files{
      "scenario.yaml",   "metrics.jsonl",       "model.pt",           "summary.json",
      "client_state.db", "client_state.db-wal", "client_state.db-shm"};
  return files;
}

std::optional<std::string> claim_out_dir(const std::string& dir, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::string found;
  for (const char* f : {"scenario.yaml", "metrics.jsonl", "summary.json", "model.pt", "checkpoint"})
    if (fs::exists(fs::path{dir} / f, ec)) found += (found.empty() ? "" : ", ") + std::string{f};
  if (found.empty()) return std::nullopt;
  if (!overwrite)
    return "--out " + dir + " already holds a run (" + found +
           "); pass --overwrite to replace it, or choose another directory";
  for (const auto& f : run_files()) {
    const auto path = fs::path{dir} / f;
    fs::remove(path, ec);
    if (ec) return "--overwrite: cannot remove " + path.string() + ": " + ec.message();
  }
  // The old run's checkpoints: a later --resume must never continue the replaced run.
  const auto checkpoints = fs::path{dir} / "checkpoint";
  fs::remove_all(checkpoints, ec);
  if (ec) return "--overwrite: cannot remove " + checkpoints.string() + ": " + ec.message();
  return std::nullopt;
}

run_output::run_output(const scenario& sc, std::string dir, bool quiet)
    : writer_(dir.empty() ? default_out_dir(sc) : dir),
      quiet_(quiet),
      rounds_(sc.protocol.mode == protocol_mode::async ? sc.async.aggregations
                                                       : sc.protocol.rounds),
      async_(sc.protocol.mode == protocol_mode::async) {
  writer_.write_text("scenario.yaml", to_yaml(sc));
}

run_output::run_output(const scenario& sc, std::string dir, bool quiet, uint32_t resume_after)
    : writer_(dir, resume_after),
      quiet_(quiet),
      rounds_(sc.protocol.mode == protocol_mode::async ? sc.async.aggregations
                                                       : sc.protocol.rounds),
      async_(sc.protocol.mode == protocol_mode::async),
      resumed_after_(resume_after) {}

std::string format_rate(double per_s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), per_s < 10 ? "%.2f" : "%.0f", per_s);
  return buf;
}

std::string progress_line(const round_record& r, bool async, uint32_t rounds, double eta_s) {
  char head[160];
  std::snprintf(head, sizeof(head), "%s %u/%u  loss %.4f  clients %u  failures %u",
                async ? "aggregation" : "round", r.round, rounds, r.mean_loss, r.clients,
                r.failures);
  std::string line = head;
  if (r.evaluated) {
    char eval[96];
    if (!r.eval_error.empty())
      line += "  eval failed: " + r.eval_error;
    else if (r.test_samples > 0) {
      std::snprintf(eval, sizeof(eval), "  test acc %.4f loss %.4f", r.test_accuracy, r.test_loss);
      line += eval;
    }
    if (r.eval_clients > 0) {
      std::snprintf(eval, sizeof(eval), "  client acc %.4f", r.client_accuracy);
      line += eval;
    }
  }
  char tail[96];
  std::snprintf(tail, sizeof(tail), "  %s clients/s  %.2fs  left %s",
                format_rate(r.clients_per_s).c_str(), r.wall_s, format_eta(eta_s).c_str());
  line += tail;
  if (r.private_round) {
    char dp[64];
    std::snprintf(dp, sizeof(dp), "  eps %.4g clip %.4g", r.epsilon, r.dp_clip);
    line += dp;
  }
  if (r.edges_lost > 0) line += "  edges lost " + std::to_string(r.edges_lost);
  if (r.rerouted > 0) line += "  rerouted " + std::to_string(r.rerouted);
  if (r.edges_rejoined > 0) line += "  edges rejoined " + std::to_string(r.edges_rejoined);
  // Scripted events that fired: "  events: edge_down edge 1, bandwidth fraction 1 x20".
  for (size_t i = 0; i < r.events.size(); ++i)
    line += (i == 0 ? "  events: " : ", ") + r.events[i].kind + " " + r.events[i].target;
  return line;
}

std::string stopping_line(int sig, const scenario& sc) {
  const bool async = sc.protocol.mode == protocol_mode::async;
  return "fedactor: " + signal_name(sig) + ": stopping; " +
         (async ? "the tasks in flight are abandoned, the last server step's model"
                : "the round in progress is abandoned, the last completed round's model") +
         " and the summary are written (" + (sig == SIGINT ? "Ctrl-C" : "the signal") +
         " again exits at once)";
}

std::string summary_text(const run_summary& s, const std::string& dir) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%s: %u rounds, %llu clients trained, %llu failures, %.2fs, %s clients/s, "
                "final loss %.4f\n",
                s.scenario.c_str(), s.rounds, static_cast<unsigned long long>(s.clients_trained),
                static_cast<unsigned long long>(s.failures), s.wall_s,
                format_rate(s.mean_clients_per_s).c_str(), s.final_loss);
  std::string text = buf;
  if (s.interrupted)
    text += "interrupted (" + s.stopped_by + ") after " + std::to_string(s.rounds) +
            (s.protocol == "async" ? " server steps" : " rounds") +
            (s.rounds == 0 ? ": the model is the initial one\n"
                           : ": the model is the last completed one's\n");
  // The causes, when anything failed or was discarded: "failures: 2 timeout, 1 edge_lost".
  std::string causes;
  for (size_t i = 0; i < failure_code_count; ++i) {
    if (s.failures_by.by_code[i] == 0) continue;
    causes += (causes.empty() ? "" : ", ") + std::to_string(s.failures_by.by_code[i]) + " " +
              to_string(static_cast<failure_code>(i));
  }
  if (!causes.empty()) text += "failures by cause: " + causes + "\n";
  if (s.norm_bound_on)
    text += "norm bound: " + std::to_string(s.norm_clipped) + " updates clipped, " +
            std::to_string(s.norm_rejected) + " rejected\n";
  if (s.evaluated && s.test_samples > 0) {
    std::snprintf(buf, sizeof(buf), "test accuracy %.4f, test loss %.4f (round %u)\n",
                  s.test_accuracy, s.test_loss, s.evaluated_round);
    text += buf;
  }
  if (s.evaluated && s.eval_clients > 0) {
    std::snprintf(buf, sizeof(buf), "client accuracy %.4f over %u clients (round %u)\n",
                  s.client_accuracy, s.eval_clients, s.evaluated_round);
    text += buf;
  }
  if (s.private_run) {
    std::snprintf(buf, sizeof(buf), "differential privacy: (epsilon %.4g, delta %.3g), clip %.4g\n",
                  s.epsilon, s.delta, s.final_clip);
    text += buf;
  }
  std::snprintf(buf, sizeof(buf), "model sha256 %s, l2 %.6f, peak RSS %.1f MiB\noutput: %s\n",
                s.model_sha256.c_str(), s.model_l2, s.peak_rss_bytes / 1048576.0, dir.c_str());
  return text + buf;
}

void run_output::on_round(const round_record& r) {
  writer_.write(r);
  elapsed_ += r.wall_s;
  if (quiet_) return;
  const double done = r.round > resumed_after_ ? r.round - resumed_after_ : 1;
  const double eta = elapsed_ / done * (rounds_ - r.round);
  std::fprintf(stderr, "%s\n", progress_line(r, async_, rounds_, eta).c_str());
}

void run_output::finish(const model_spec& spec, const federation_result& result) {
  save_model_pt(spec, result.model, writer_.dir() + "/model.pt");
  auto summary = result.summary;
  summary.refusals = true;
  summary.wire_rejects.clear();
  const auto wire = wire_reject_counts();
  for (size_t i = 0; i < wire_reject_count; ++i)
    summary.wire_rejects.emplace_back(to_string(static_cast<wire_reject>(i)), wire[i]);
  summary.refused_answers.clear();
  const auto answers = answer_refusal_counts();
  for (size_t i = 0; i < answer_refusal_count; ++i)
    summary.refused_answers.emplace_back(to_string(static_cast<answer_refusal>(i)), answers[i]);
  summary.refused_results.clear();
  const auto results = reported_result_refusals();
  for (size_t i = 0; i < result_refusal_count; ++i)
    summary.refused_results.emplace_back(to_string(static_cast<result_refusal>(i)), results[i]);
  writer_.write_summary(summary);
  std::fputs(summary_text(result.summary, writer_.dir()).c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace fedactor
