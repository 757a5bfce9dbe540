#pragma once

// Writes a run's output directory: metrics.jsonl (appended one record at a time, flushed
// so a crash keeps every finished round) and summary.json.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/metrics/round_record.hpp"

namespace fedactor {

std::string to_json(const round_record& r);
std::string to_json(const run_summary& s);

// totals[e] += load[e] for every edge (tasks, updates, failed, busy_s; in_flight is a gauge and
// not summed); totals grows to load's size.
void add_edge_load(std::vector<edge_load_counts>& totals,
                   const std::vector<edge_load_counts>& load);

class metrics_writer {
 public:
  // Creates `dir` (and parents). Throws std::runtime_error naming the path on failure.
  explicit metrics_writer(const std::string& dir);

  // Continues DIR/metrics.jsonl after its first `keep_records` lines (a run resumed from a
  // checkpoint after that many rounds / steps): the lines after them, which the interrupted
  // run wrote past its checkpoint (a torn last line included), are cut off, and new records
  // are appended. Throws checkpoint_error naming the file when it is missing or has fewer
  // complete lines; std::runtime_error when it cannot be written.
  metrics_writer(const std::string& dir, uint32_t keep_records);

  // Also adds the record's per-edge load to the run's per-edge totals.
  void write(const round_record& r);
  // summary.json; without edge_totals of its own the summary gets the per-edge totals of every
  // record of metrics.jsonl (a resumed run's kept records included).
  void write_summary(const run_summary& s);
  const std::vector<edge_load_counts>& edge_totals() const { return edge_totals_; }
  void write_text(const std::string& file_name, const std::string& content);
  const std::string& dir() const { return dir_; }

 private:
  // Adds the edge_load of a kept metrics.jsonl line (a resumed run) to edge_totals_.
  void add_kept_edge_load(const std::string& line);

  std::string dir_;
  std::ofstream jsonl_;
  std::vector<edge_load_counts> edge_totals_;
};

// Peak resident set size of this process in bytes (VmHWM), 0 when unavailable.
uint64_t peak_rss_bytes();

}  // namespace fedactor
