#pragma once

// What the live view of a run (`--http`, docs/observability.md) knows at one moment: the run,
// whether it ended, its latest record and its last evaluated one. A plain value: the
// snapshot (live_snapshot) hands out copies of it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/metrics/round_record.hpp"

namespace fedactor {

struct live_state {
  std::string run;       // the output directory's name
  std::string scenario;  // the scenario's name
  bool async = false;    // records are async server steps
  bool finished = false;
  uint32_t records = 0;                   // records so far (this process)
  std::optional<round_record> latest;     // the last record, nullopt before the first one
  std::optional<round_record> evaluated;  // the last record evaluated on a test split
  // Per-edge sums of the records' edge_load so far (this process; in_flight apart)
  std::vector<edge_load_counts> edge_totals;
  // Sums of the records' net_bytes_down / net_bytes_up so far (node server);
  // net_bytes_counted false: no record had them
  bool net_bytes_counted = false;
  uint64_t net_bytes_down = 0;
  uint64_t net_bytes_up = 0;
  std::array<uint64_t, message_kind_count> net_bytes_down_by_message{};  // of those, by kind
  std::array<uint64_t, message_kind_count> net_bytes_up_by_message{};
  uint64_t rss_bytes = 0;       // resident set size when the state was taken
  uint64_t peak_rss_bytes = 0;  // VmHWM when the state was taken
};

}  // namespace fedactor
