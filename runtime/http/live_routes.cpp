#include "runtime/http/live_routes.hpp"

#include <exception>

#include <nlohmann/json.hpp>

#include "runtime/http/prometheus_text.hpp"
#include "runtime/report/chart_spec.hpp"
#include "runtime/report/html_report.hpp"
#include "runtime/report/run_data.hpp"

namespace fedactor {

namespace {

http_reply text(unsigned status, std::string body) {
  return {status, "text/plain; charset=utf-8", std::move(body)};
}

http_reply health(const live_snapshot& snapshot) {
  const live_state s = snapshot.state();
  nlohmann::json j{{"state", s.finished ? "finished" : "running"},
                   {"run", s.run},
                   {"scenario", s.scenario},
                   {"round", s.latest ? s.latest->round : 0},
                   {"records", s.records}};
  return {200, "application/json",
          j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

http_reply page(const live_snapshot& snapshot, const std::string& chartjs) {
  const live_records recs = snapshot.records();
  const std::string refresh = recs.finished ? std::string{}
                                            : "<meta http-equiv=\"refresh\" content=\"" +
                                                  std::to_string(live_page_refresh_s) + "\">\n";
  if (recs.lines.empty()) {
    return {
        200, "text/html; charset=utf-8",
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" + refresh +
            "<title>fedactor: " + html_escape(recs.run) + "</title>\n</head>\n<body>\n<p>" +
            html_escape(recs.run) + ": " +
            (recs.finished ? "the run ended without a record." : "waiting for the first round.") +
            "</p>\n</body>\n</html>\n"};
  }
  try {
    run_data run;
    run.dir = recs.run;
    run.name = recs.run;
    for (const auto& line : recs.lines) add_record(run, nlohmann::json::parse(line));
    if (!recs.summary.empty()) {
      run.summary = nlohmann::json::parse(recs.summary);
      if (auto it = run.summary.find("scenario"); it != run.summary.end() && it->is_string())
        run.scenario = it->get<std::string>();
    }
    const std::vector<run_data> runs{std::move(run)};
    const std::vector<std::string> names{recs.run};
    return {200, "text/html; charset=utf-8",
            report_html(runs, names, report_charts(runs, names), chartjs, refresh)};
  } catch (const std::exception& e) {
    return text(500, std::string("cannot draw the records: ") + e.what() + "\n");
  }
}

}  // namespace

http_reply live_route(const std::string& method, const std::string& target,
                      const live_snapshot& snapshot, const std::string& chartjs) {
  const std::string path = target.substr(0, target.find('?'));
  const bool known = path == "/" || path == "/metrics" || path == "/health";
  if (!known) return text(404, "not found: " + path + "\n");
  if (method != "GET") return text(405, "method not allowed: " + method + " (GET only)\n");
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(snapshot.state())};
  if (path == "/health") return health(snapshot);
  return page(snapshot, chartjs);
}

}  // namespace fedactor
