#pragma once

// The latest state of a running run, shared between the metrics path (which writes it as each
// record is written) and the HTTP thread (which reads copies of it). Every call holds one
// mutex only long enough to copy: the actors never wait on a request being served.

#include <mutex>
#include <string>
#include <vector>

#include "runtime/http/live_state.hpp"
#include "runtime/metrics/round_record.hpp"

namespace fedactor {

// What the live page draws: the records as metrics.jsonl lines and summary.json's text
// (empty while the run is going).
struct live_records {
  std::string run;
  bool finished = false;
  std::vector<std::string> lines;
  std::string summary;
};

class live_snapshot {
 public:
  live_snapshot(std::string run, std::string scenario);

  // A record as it is written to metrics.jsonl.
  void on_record(const round_record& r);
  // The run ended; `summary_json` is summary.json's text.
  void finish(std::string summary_json);

  // The state with the process's current and peak resident set size.
  live_state state() const;
  live_records records() const;

 private:
  mutable std::mutex mu_;
  live_state state_;
  std::vector<std::string> lines_;
  std::string summary_;
};

// The resident set size of this process in bytes (/proc/self/statm), 0 when unavailable.
uint64_t current_rss_bytes();

}  // namespace fedactor
