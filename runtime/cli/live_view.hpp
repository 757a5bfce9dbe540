#pragma once

// The live view of a run, as `fedactor run` and `fedactor node server` take it:
// `--http [HOST:]PORT` serves the report page, /metrics and /health while the run goes
// (runtime/http, docs/observability.md); `--http-public` allows a non-loopback HOST;
// `--http-linger SECONDS` keeps serving the final page that long after the run.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/http/http_endpoint.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/http/live_snapshot.hpp"
#include "runtime/metrics/round_record.hpp"

namespace fedactor {

struct live_view_options {
  std::string http;  // empty: no live view
  bool http_public = false;
  double linger_s = 0;
};

// The usage text of the options: "[--http [HOST:]PORT [--http-public] [--http-linger S]]".
extern const char* const live_view_usage;

// When args[i] is --http, --http-public or --http-linger (with its value), takes it (i moves
// past the value) and returns true; `error` is then set (one line) when its value is missing
// or bad. False for any other argument.
bool take_live_view_option(const std::vector<std::string>& args, size_t& i, live_view_options& o,
                           std::string& error);

// The endpoint of `o` (nullopt without --http), or the one-line reason it is refused: a bad
// value, a non-loopback host without --http-public, --http-public or --http-linger without
// --http.
struct live_view_check {
  std::optional<http_endpoint> endpoint;
  std::string error;
};
live_view_check check_live_view(const live_view_options& o);

class live_view {
 public:
  // Reads Chart.js (chartjs_path()) and listens on `at`; on success writes
  // "http: listening on HOST:PORT" (the bound port) to `log`. nullptr and the one-line error
  // otherwise.
  static std::unique_ptr<live_view> start(const http_endpoint& at, const std::string& out_dir,
                                          const std::string& scenario, double linger_s,
                                          std::ostream& log, std::string& error);

  // From the metrics path: copies the record into the snapshot (never waits on HTTP).
  void on_record(const round_record& r) { snapshot_.on_record(r); }

  // The run ended: the page gets its summary, /health says finished; then serves
  // --http-linger seconds more (unless end_linger() is or was called) and stops.
  void finish(const run_summary& s);

  // Ends the linger now, or skips it when called before (any thread; does not block).
  void end_linger();

  const http_endpoint& bound() const { return server_->bound(); }

 private:
  live_view(const std::string& run, const std::string& scenario, std::string chartjs,
            double linger_s);

  live_snapshot snapshot_;
  std::string chartjs_;
  double linger_s_;
  std::mutex linger_mu_;
  std::condition_variable linger_cv_;
  bool linger_ended_ = false;
  std::unique_ptr<http_server> server_;
};

}  // namespace fedactor
