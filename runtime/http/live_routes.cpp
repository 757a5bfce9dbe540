#include "runtime/http/live_routes.hpp"

#include <exception>
#include <optional>

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

// The records so far as one run (the report's input). Throws std::exception when a record or
// the summary does not read.
run_data live_run(const live_records& recs) {
  run_data run;
  run.dir = recs.run;
  run.name = recs.run;
  for (const auto& line : recs.lines) add_record(run, nlohmann::json::parse(line));
  if (!recs.summary.empty()) {
    run.summary = nlohmann::json::parse(recs.summary);
    if (auto it = run.summary.find("scenario"); it != run.summary.end() && it->is_string())
      run.scenario = it->get<std::string>();
  }
  return run;
}

// The page while no record is in: it polls /data.json and reloads once the first one is.
const char* const waiting_script = R"(
(function () {
  var note = document.getElementById('live-note');
  function poll() {
    fetch('/data.json?since=0', {cache: 'no-store'})
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (d) {
        if (d.records > 0) return location.reload();
        if (d.finished) return void (note.textContent = 'The run ended without a record.');
        setTimeout(poll, POLL_MS);
      }, function () {
        note.textContent = 'Disconnected: the run\'s server is gone.';
      });
  }
  setTimeout(poll, POLL_MS);
})();
)";

http_reply page(const live_snapshot& snapshot, const std::string& chartjs) {
  const live_records recs = snapshot.records();
  if (recs.lines.empty()) {
    std::string script = waiting_script;
    for (size_t at = script.find("POLL_MS"); at != std::string::npos; at = script.find("POLL_MS"))
      script.replace(at, 7, std::to_string(live_page_refresh_s * 1000));
    return {
        200, "text/html; charset=utf-8",
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>fedactor: " +
            html_escape(recs.run) + "</title>\n</head>\n<body>\n<p>" + html_escape(recs.run) +
            ": <span id=\"live-note\">" +
            (recs.finished ? "the run ended without a record." : "waiting for the first round.") +
            "</span></p>\n" + (recs.finished ? "" : "<script>" + script + "</script>\n") +
            "</body>\n</html>\n"};
  }
  try {
    const std::vector<run_data> runs{live_run(recs)};
    const std::vector<std::string> names{recs.run};
    std::optional<live_page_options> live;
    if (!recs.finished)
      live = live_page_options{"/data.json", static_cast<uint32_t>(recs.lines.size()),
                               live_page_refresh_s * 1000};
    return {200, "text/html; charset=utf-8",
            report_html(runs, names, report_charts(runs, names), chartjs, {}, live)};
  } catch (const std::exception& e) {
    return text(500, std::string("cannot draw the records: ") + e.what() + "\n");
  }
}

// /data.json?since=N: whether the run ended, its record count and, unless that is N, the
// charts of every record so far (chart_specs_json).
http_reply data(const live_snapshot& snapshot, const std::string& target) {
  uint64_t since = 0;
  const auto q = target.find('?');
  if (q != std::string::npos) {
    const std::string query = target.substr(q + 1);
    size_t at = query.rfind("since=", 0) == 0 ? 0 : query.find("&since=");
    if (at != std::string::npos) {
      at = query.find('=', at) + 1;
      const std::string v = query.substr(at, query.find('&', at) - at);
      if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
        return text(400, "since: expected a record count, got '" + v + "'\n");
      since = std::stoull(v);
    }
  }
  const live_records recs = snapshot.records();
  nlohmann::json j{{"run", recs.run}, {"finished", recs.finished}, {"records", recs.lines.size()}};
  if (recs.lines.size() != since && !recs.lines.empty()) {
    try {
      const std::vector<run_data> runs{live_run(recs)};
      const std::vector<std::string> names{recs.run};
      j["charts"] = chart_specs_json(report_charts(runs, names));
    } catch (const std::exception& e) {
      return text(500, std::string("cannot draw the records: ") + e.what() + "\n");
    }
  }
  return {200, "application/json",
          j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

}  // namespace

http_reply live_route(const std::string& method, const std::string& target,
                      const live_snapshot& snapshot, const std::string& chartjs) {
  const std::string path = target.substr(0, target.find('?'));
  const bool known = path == "/" || path == "/metrics" || path == "/health" || path == "/data.json";
  if (!known) return text(404, "not found: " + path + "\n");
  if (method != "GET") return text(405, "method not allowed: " + method + " (GET only)\n");
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4; charset=utf-8", prometheus_text(snapshot.state())};
  if (path == "/health") return health(snapshot);
  if (path == "/data.json") return data(snapshot, target);
  return page(snapshot, chartjs);
}

}  // namespace fedactor
