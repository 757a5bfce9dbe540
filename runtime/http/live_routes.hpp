#pragma once

// What the live view of a run answers (docs/observability.md): GET / the report page of the
// records so far (runtime/report; reloading itself every 2 s while the run is going),
// GET /metrics the Prometheus text, GET /health the state in one JSON object; any other path
// 404, any other method 405. Read-only: it only reads the snapshot.

#include <string>

#include "runtime/http/live_snapshot.hpp"

namespace fedactor {

struct http_reply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// Seconds between reloads of the live page while the run is going.
constexpr int live_page_refresh_s = 2;

// The reply to `method` `target` (path and optional ?query). `chartjs` is the Chart.js source
// the page inlines.
http_reply live_route(const std::string& method, const std::string& target,
                      const live_snapshot& snapshot, const std::string& chartjs);

}  // namespace fedactor
