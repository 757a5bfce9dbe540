#pragma once

// A run's output directory as `fedactor report` reads it back: the records of metrics.jsonl
// (one per sync round or async server step, docs/outputs.md) and summary.json.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fedactor {

// A scripted event of a record's `events` (docs/scenarios.md "Events").
struct run_event {
  uint32_t step = 0;  // the round / step whose record lists it
  std::string kind;
  std::string target;
  std::string trigger;
  double sim_time_s = 0;
  int64_t changed = -1;  // -1: not written (bandwidth, compute)
};

// One edge's entry of a record's `edge_load` (docs/outputs.md "Per-edge load").
struct run_edge_load {
  uint32_t tasks = 0;
  uint32_t updates = 0;
  uint32_t failed = 0;
  double busy_s = 0;
  uint32_t in_flight = 0;  // async steps
};

// One metrics.jsonl record: what the report draws of it.
struct run_point {
  uint32_t step = 0;  // `round` (sync) or `aggregation` (async)
  double sim_time_s = 0;
  double wall_s = 0;
  double mean_loss = 0;
  uint32_t clients = 0;
  double clients_per_s = 0;
  uint32_t failures = 0;
  std::map<std::string, uint64_t> failures_by;  // cause -> count, as written (stale included)
  std::optional<double> test_accuracy;          // when the round was evaluated on a test split
  std::optional<double> test_loss;
  uint32_t live_clients = 0;
  uint32_t edges_lost = 0;
  uint32_t edges_rejoined = 0;
  uint32_t rerouted = 0;
  // per-edge load, when the record has it (`edges_alive`, `edge_load`; [e] = edge e)
  std::optional<uint32_t> edges_alive;
  std::vector<run_edge_load> edge_load;
  // async steps
  uint64_t stale_discarded = 0;               // cumulative
  std::vector<uint64_t> staleness_histogram;  // [s] = folded updates of staleness s
  double mean_decay = 0;
};

struct run_data {
  std::string dir;
  std::string name;      // the directory's last component ("quickstart-20261201-120000")
  std::string scenario;  // summary.json's `scenario`; empty without a summary
  bool async = false;    // records are server steps (`aggregation`)
  std::vector<run_point> points;
  std::vector<run_event> events;  // in record order
  nlohmann::json summary;         // summary.json; null when the run has none (it did not end)
};

// A run directory that cannot be read: what() is one line naming the file (and the line of
// metrics.jsonl) and what is wrong with it.
class report_input_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Appends one metrics.jsonl record (parsed) to `run`: its point and its events; the first
// record sets `run.async`. Throws std::exception with the reason (one line, no location): a
// record without `round` / `aggregation`, `mean_loss` or `sim_time_s`, a value of the wrong
// type, a sync round among async steps or the other way round.
void add_record(run_data& run, const nlohmann::json& record);

// Reads DIR/metrics.jsonl (required, at least one record) and DIR/summary.json (optional).
// Throws report_input_error: DIR missing or not a directory, metrics.jsonl missing or empty,
// a line that is not a JSON object (a torn or corrupt line), a record without `round` /
// `aggregation`, `mean_loss` or `sim_time_s` or with a value of the wrong type, records that
// mix sync and async, a summary.json that does not parse.
run_data load_run(const std::string& dir);

}  // namespace fedactor
