#pragma once

// What the live view of a run answers (docs/observability.md): GET / the report page of the
// records so far (runtime/report; while the run is going it polls /data.json every 2 s and
// updates its charts in place), GET /data.json?since=N the run's state and, when its record
// count is not N, the charts of its records (report_html's live page), GET /metrics the
// Prometheus text, GET /health the state in one JSON object; any other path 404, any other
// method 405. Read-only: it only reads the snapshot.

#include <string>

#include "runtime/http/live_snapshot.hpp"

namespace fedactor {

struct http_reply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// Seconds between the live page's polls of /data.json while the run is going.
constexpr int live_page_refresh_s = 2;

// The reply to `method` `target` (path and optional ?query). `chartjs` is the Chart.js source
// the page inlines.
http_reply live_route(const std::string& method, const std::string& target,
                      const live_snapshot& snapshot, const std::string& chartjs);

}  // namespace fedactor
