#pragma once

// The page `fedactor report` writes: one self-contained HTML file (no network: Chart.js and
// the data are inlined) comparing runs: who they are, their summaries side by side, one chart
// per metric (chart_spec), the scripted events.

#include <string>
#include <vector>

#include "runtime/report/chart_spec.hpp"
#include "runtime/report/run_data.hpp"

namespace fedactor {

// `text` with & < > " ' escaped for HTML text and attribute values.
std::string html_escape(const std::string& text);

// `j` as JSON text that can stand inside a <script> element ("</" written "<\/").
std::string script_json(const nlohmann::json& j);

// The page. `names` are the runs' names (one per run, distinct), `charts` report_charts of
// them, `chartjs` the source of Chart.js 3 (UMD build), inlined as it is. Once the charts are
// drawn, the page's script writes into <pre id="render-status"> one line per chart,
// "chart ID drawn N expected M" (N: points placed at finite coordinates), then "errors K" and
// one "error MESSAGE" line per script error or console.error the page saw. `head` is put into
// the page's <head> as it is (the live view's refresh, runtime/http/live_routes.hpp).
std::string report_html(const std::vector<run_data>& runs, const std::vector<std::string>& names,
                        const std::vector<chart_spec>& charts, const std::string& chartjs,
                        const std::string& head = {});

}  // namespace fedactor
