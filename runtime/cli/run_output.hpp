#pragma once

// The output of a run, shared by `fedactor run` and `fedactor node server`: the directory
// with scenario.yaml, metrics.jsonl (one line per round as it ends), model.pt and
// summary.json; a progress line per round on stderr; the closing summary on stdout.

#include <optional>
#include <string>
#include <vector>

#include "runtime/host/federation.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// runs/NAME-YYYYmmdd-HHMMSS
std::string default_out_dir(const scenario& s);

// The files a run writes into its output directory: scenario.yaml, metrics.jsonl, model.pt,
// summary.json, and the clients' algorithm state (client_state.db and its SQLite companions).
const std::vector<std::string>& run_files();

// Makes `dir` ready for a new run. When it already holds a run (scenario.yaml, metrics.jsonl,
// summary.json or model.pt), refuses with a one-line reason naming the directory and the way
// out, unless `overwrite`: then the old run's files (run_files()) are removed, other files
// stay. nullopt when the run may write there (also: `dir` does not exist yet). A resumed run
// (which continues the run in `dir`) does not call this.
std::optional<std::string> claim_out_dir(const std::string& dir, bool overwrite);

// A new run's scenario as `fedactor run`, `fedactor node server` and `fedactor scenario check`
// take it: FILE loaded into `sc`, the --set overrides applied in order, validated. The one-line
// error otherwise ("<origin>:<line>: <key>: <what>", docs/scenarios.md "Errors").
std::optional<std::string> load_run_scenario(const std::string& file,
                                             const std::vector<std::string>& overrides,
                                             scenario& sc);

// A new run's scenario and output directory, as `fedactor run` and `fedactor node server` take
// them: load_run_scenario(); `out_dir` (default_out_dir when
// empty) claimed (claim_out_dir). The one-line error otherwise.
std::optional<std::string> prepare_new_run(const std::string& file,
                                           const std::vector<std::string>& overrides,
                                           bool overwrite, scenario& sc, std::string& out_dir);

// "1m05s", "2h03m", "4.2s"
std::string format_eta(double seconds);

// A rate with two decimals below 10 (a CNN round trains ~0.5 clients/s), none above.
std::string format_rate(double per_s);

// The progress line of one round or aggregation (no newline): loss, clients, failures, the
// evaluation when the round had one, rate, wall time, time left, edge events.
std::string progress_line(const round_record& r, bool async, uint32_t rounds, double eta_s);

// The line printed on the first SIGINT / SIGTERM: stopping, what is kept, and that a second
// signal exits at once.
std::string stopping_line(int sig, const scenario& sc);

// The closing lines on stdout: totals, the last evaluation if any, model digest, output dir.
std::string summary_text(const run_summary& s, const std::string& dir);

class run_output {
 public:
  // Creates `dir` (default_out_dir when empty) and writes scenario.yaml. Throws
  // std::runtime_error naming the path when it cannot.
  run_output(const scenario& sc, std::string dir, bool quiet);
  // Continues the output in `dir` of a run resumed from a checkpoint after `resume_after`
  // rounds / steps: scenario.yaml stays, metrics.jsonl keeps its first `resume_after` records
  // (metrics_writer's resume constructor; throws checkpoint_error when it has fewer).
  run_output(const scenario& sc, std::string dir, bool quiet, uint32_t resume_after);

  // One metrics.jsonl line; unless quiet, a progress line on stderr.
  void on_round(const round_record& r);

  // model.pt, summary.json, and the closing lines on stdout. The summary gets this process's
  // counts of undeserializable messages and refused edge answers (run_summary::refusals).
  void finish(const model_spec& spec, const federation_result& result);

  const std::string& dir() const { return writer_.dir(); }

 private:
  metrics_writer writer_;
  bool quiet_;
  uint32_t rounds_;
  bool async_;
  double elapsed_ = 0;
  uint32_t resumed_after_ = 0;  // rounds done before this process (a resumed run)
};

}  // namespace fedactor
