#pragma once

// Writes a run's output directory: metrics.jsonl (appended one record at a time, flushed
// so a crash keeps every finished round) and summary.json.

#include <cstdint>
#include <fstream>
#include <string>

#include "runtime/metrics/round_record.hpp"

namespace fedactor {

std::string to_json(const round_record& r);
std::string to_json(const run_summary& s);

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

  void write(const round_record& r);
  void write_summary(const run_summary& s);
  void write_text(const std::string& file_name, const std::string& content);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::ofstream jsonl_;
};

// Peak resident set size of this process in bytes (VmHWM), 0 when unavailable.
uint64_t peak_rss_bytes();

}  // namespace fedactor
