#include "runtime/http/live_snapshot.hpp"

#include <unistd.h>

#include <fstream>
#include <utility>

#include "runtime/metrics/metrics_writer.hpp"

namespace fedactor {

uint64_t current_rss_bytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(in >> size >> resident)) return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? resident * static_cast<uint64_t>(page) : 0;
}

live_snapshot::live_snapshot(std::string run, std::string scenario) {
  state_.run = std::move(run);
  state_.scenario = std::move(scenario);
}

void live_snapshot::on_record(const round_record& r) {
  std::string line = to_json(r);  // outside the lock
  std::lock_guard<std::mutex> guard{mu_};
  state_.async = r.async;
  ++state_.records;
  state_.latest = r;
  if (r.evaluated && r.test_samples > 0) state_.evaluated = r;
  add_edge_load(state_.edge_totals, r.edge_load);
  if (r.net_bytes_counted) {
    state_.net_bytes_counted = true;
    state_.net_bytes_down += r.net_bytes_down;
    state_.net_bytes_up += r.net_bytes_up;
    for (size_t k = 0; k < message_kind_count; ++k) {
      state_.net_bytes_down_by_message[k] += r.net_bytes_down_by_message[k];
      state_.net_bytes_up_by_message[k] += r.net_bytes_up_by_message[k];
    }
  }
  lines_.push_back(std::move(line));
}

void live_snapshot::finish(std::string summary_json) {
  std::lock_guard<std::mutex> guard{mu_};
  state_.finished = true;
  summary_ = std::move(summary_json);
}

live_state live_snapshot::state() const {
  live_state s;
  {
    std::lock_guard<std::mutex> guard{mu_};
    s = state_;
  }
  s.rss_bytes = current_rss_bytes();
  s.peak_rss_bytes = peak_rss_bytes();
  return s;
}

live_records live_snapshot::records() const {
  std::lock_guard<std::mutex> guard{mu_};
  return live_records{state_.run, state_.finished, lines_, summary_};
}

}  // namespace fedactor
