#pragma once

// The page `fedactor report` writes: one self-contained HTML file (no network: Chart.js and
// the data are inlined) comparing runs: who they are, their summaries side by side, one chart
// per metric (chart_spec), the scripted events.

#include <optional>
#include <string>
#include <vector>

#include "runtime/report/chart_spec.hpp"
#include "runtime/report/run_data.hpp"

namespace fedactor {

// `text` with & < > " ' escaped for HTML text and attribute values.
std::string html_escape(const std::string& text);

// `j` as JSON text that can stand inside a <script> element ("</" written "<\/").
std::string script_json(const nlohmann::json& j);

// The charts as the live page's script takes them from /data.json, in page order:
// [{id, section, title, note, points, config}].
nlohmann::json chart_specs_json(const std::vector<chart_spec>& charts);

// A page of a run still going (the live view, runtime/http/live_routes.hpp): its script polls
// `data_url` ("/data.json?since=N", N the records it shows) every `poll_ms` and updates its
// charts in place (Chart.js update, no reload); see report_html.
struct live_page_options {
  std::string data_url;
  uint32_t records = 0;  // the records the page is drawn from
  int poll_ms = 2000;
};

// The page. `names` are the runs' names (one per run, distinct), `charts` report_charts of
// them, `chartjs` the source of Chart.js 3 (UMD build), inlined as it is. Once the charts are
// drawn, the page's script writes into <pre id="render-status"> one line per chart,
// "chart ID drawn N expected M" (N: points placed at finite coordinates), then "errors K" and
// one "error MESSAGE" line per script error or console.error the page saw. `head` is put into
// the page's <head> as it is.
//
// With `live`, the page polls live->data_url (a JSON object: records, finished, and while the
// record count differs from the page's, charts as chart_specs_json): each chart already drawn
// gets the new data (chart.update(), the page stays where it is), a chart that appears is
// added to its section. A line in <p id="live-note"> says how many records it shows, and then
// that the run ended, or that the server is gone (a failed request: "disconnected", no error
// logged); polling stops then. <pre id="live-status"> gets one line per update,
// "update K records N points P" (P: points placed at finite coordinates over all charts),
// then "finished errors K" or "disconnected errors K" (K: script errors and console.error calls
// the page saw), and "error MESSAGE" for a script error while updating.
// Without `live` the page is static and self-contained (the offline report).
std::string report_html(const std::vector<run_data>& runs, const std::vector<std::string>& names,
                        const std::vector<chart_spec>& charts, const std::string& chartjs,
                        const std::string& head = {},
                        const std::optional<live_page_options>& live = std::nullopt);

}  // namespace fedactor
