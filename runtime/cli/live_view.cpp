#include "runtime/cli/live_view.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/cli/report_command.hpp"
#include "runtime/metrics/metrics_writer.hpp"

namespace fedactor {

const char* const live_view_usage = "[--http [HOST:]PORT [--http-public] [--http-linger SECONDS]]";

bool take_live_view_option(const std::vector<std::string>& args, size_t& i, live_view_options& o,
                           std::string& error) {
  const std::string& a = args[i];
  if (a == "--http-public") {
    o.http_public = true;
    return true;
  }
  if (a != "--http" && a != "--http-linger") return false;
  if (i + 1 >= args.size()) {
    error = a + " needs a value";
    return true;
  }
  const std::string& v = args[++i];
  if (a == "--http") {
    if (v.empty()) error = "--http: expected PORT, HOST:PORT or [IPv6]:PORT, got ''";
    o.http = v;
    return true;
  }
  double s = -1;
  try {
    size_t used = 0;
    s = std::stod(v, &used);
    if (used != v.size()) s = -1;
  } catch (const std::exception&) {
    s = -1;
  }
  if (!(s >= 0 && s <= 86400))
    error = "--http-linger: expected seconds in [0, 86400], got '" + v + "'";
  o.linger_s = s;
  return true;
}

live_view_check check_live_view(const live_view_options& o) {
  if (o.http.empty()) {
    if (o.http_public) return {std::nullopt, "--http-public needs --http HOST:PORT"};
    if (o.linger_s > 0) return {std::nullopt, "--http-linger needs --http [HOST:]PORT"};
    return {};
  }
  auto parsed = parse_http_endpoint(o.http);
  if (!parsed.endpoint) return {std::nullopt, "--http: " + parsed.error};
  if (!parsed.endpoint->loopback && !o.http_public)
    return {std::nullopt, "--http: " + parsed.endpoint->host +
                              " is not a loopback address; the live view has no authentication, "
                              "pass --http-public to serve it there anyway"};
  return {parsed.endpoint, {}};
}

live_view::live_view(const std::string& run, const std::string& scenario, std::string chartjs,
                     double linger_s)
    : snapshot_(run, scenario), chartjs_(std::move(chartjs)), linger_s_(linger_s) {}

std::unique_ptr<live_view> live_view::start(const http_endpoint& at, const std::string& out_dir,
                                            const std::string& scenario, double linger_s,
                                            std::ostream& log, std::string& error) {
  const std::string js_path = chartjs_path();
  std::ifstream js(js_path, std::ios::binary);
  if (!js) {
    error = "http: Chart.js not found at " + js_path +
            " (install libjs-chart.js or set FEDACTOR_CHARTJS)";
    return nullptr;
  }
  std::stringstream chartjs;
  chartjs << js.rdbuf();
  std::filesystem::path dir{out_dir};
  if (dir.filename().empty()) dir = dir.parent_path();
  std::unique_ptr<live_view> v{
      new live_view(dir.filename().string(), scenario, chartjs.str(), linger_s)};
  live_view* raw = v.get();
  auto listening = http_server::listen(at, [raw](const std::string& m, const std::string& t) {
    return live_route(m, t, raw->snapshot_, raw->chartjs_);
  });
  if (!listening.server) {
    error = listening.error;
    return nullptr;
  }
  v->server_ = std::move(listening.server);
  log << "http: listening on " << to_string(v->server_->bound()) << std::endl;
  return v;
}

void live_view::finish(const run_summary& s) {
  snapshot_.finish(to_json(s));
  {
    std::unique_lock<std::mutex> lock{linger_mu_};
    linger_cv_.wait_for(lock, std::chrono::duration<double>(linger_s_),
                        [this] { return linger_ended_; });
  }
  server_->stop();
}

void live_view::end_linger() {
  std::lock_guard<std::mutex> guard{linger_mu_};
  linger_ended_ = true;
  linger_cv_.notify_all();
}

}  // namespace fedactor
