#include "runtime/report/html_report.hpp"

#include <cmath>
#include <cstdio>
#include <utility>

namespace fedactor {

namespace {

using nlohmann::json;

// A figure of summary.json as the table shows it.
std::string format_value(const json& v) {
  if (v.is_null()) return "&infin;";  // epsilon without noise
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    char buf[64];
    if (std::fabs(d) >= 1000)
      std::snprintf(buf, sizeof buf, "%.0f", d);
    else
      std::snprintf(buf, sizeof buf, "%.4g", d);
    return buf;
  }
  if (v.is_string()) return html_escape(v.get<std::string>());
  if (v.is_object()) {  // failures_by: the causes that occurred
    std::string out;
    for (const auto& [k, n] : v.items()) {
      if (n.is_number() && n.get<double>() == 0) continue;
      out += (out.empty() ? "" : ", ") + html_escape(k) + " " + format_value(n);
    }
    return out.empty() ? "none" : out;
  }
  return html_escape(v.dump());
}

// The rows of the summary table: summary.json key, label, how to show the value.
struct summary_row {
  const char* key;
  const char* label;
};
const summary_row summary_rows[] = {
    {"scenario", "scenario"},
    {"protocol", "protocol"},
    {"rounds", "rounds / steps completed"},
    {"registered_clients", "registered clients"},
    {"clients_trained", "clients trained"},
    {"total_updates", "updates folded (async)"},
    {"stale_updates", "stale updates discarded (async)"},
    {"rejected_updates", "malformed updates refused (async)"},
    {"failures", "failures"},
    {"failures_by", "failures by cause"},
    {"final_loss", "final training loss"},
    {"test_accuracy", "last test accuracy"},
    {"test_loss", "last test loss"},
    {"evaluated_round", "evaluated at round / step"},
    {"client_accuracy", "client accuracy"},
    {"wall_s", "wall time (s)"},
    {"mean_clients_per_s", "clients / s"},
    {"sim_time_s", "simulated time (s)"},
    {"norm_clipped", "updates clipped to the norm bound"},
    {"norm_rejected", "updates rejected by the norm bound"},
    {"epsilon", "DP epsilon"},
    {"delta", "DP delta"},
    {"num_params", "model parameters"},
    {"model_l2", "model L2 norm"},
    {"model_sha256", "model sha256"},
    {"peak_rss_bytes", "peak memory (MiB)"},
    {"interrupted", "interrupted"},
    {"stopped_by", "stopped by"},
};

std::string cell(const run_data& r, const summary_row& row) {
  if (r.summary.is_null()) return "&mdash;";
  auto it = r.summary.find(row.key);
  if (it == r.summary.end()) return "&mdash;";
  const std::string key = row.key;
  if (key == "model_sha256" && it->is_string())
    return "<code title=\"" + html_escape(it->get<std::string>()) + "\">" +
           html_escape(it->get<std::string>().substr(0, 12)) + "&hellip;</code>";
  if (key == "peak_rss_bytes" && it->is_number())
    return format_value(json(it->get<double>() / (1024.0 * 1024.0)));
  return format_value(*it);
}

std::string swatch(size_t i) {
  return "<span class=\"swatch\" style=\"background:" + run_color(i) + "\"></span>";
}

const char* const style = R"(
:root { --fg: #1d2430; --muted: #5b6573; --line: #dde2e8; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); width: 100%; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #fafbfc; }
table.runs tr > th:first-child { width: 250px; }
td.num { font-variant-numeric: tabular-nums; }
.wrap { overflow-x: auto; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px;
          vertical-align: -1px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 14px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; }
figure p { color: var(--muted); margin: 2px 0 8px; font-size: 12.5px; }
.plot { position: relative; height: 290px; }
code { font-size: 12px; }
#render-status, #live-status { display: none; }
)";

// Collects script errors and console.error calls before any other script runs.
const char* const error_capture = R"(
window.reportErrors = [];
window.addEventListener('error', function (e) { window.reportErrors.push(String(e.message)); });
(function () {
  var original = console.error;
  console.error = function () {
    window.reportErrors.push(Array.prototype.map.call(arguments, String).join(' '));
    original.apply(console, arguments);
  };
})();
)";

// Draws every chart, then writes the render status (see html_report.hpp). reportDraw(spec)
// draws one chart into its canvas and keeps it in reportCharts (the live script updates it).
const char* const render = R"(
window.reportCharts = {};
window.reportDraw = function (spec) {
  var chart = new Chart(document.getElementById(spec.id), spec.config);
  window.reportCharts[spec.id] = chart;
  return chart;
};
window.reportDrawn = function (chart) {
  var drawn = 0;
  for (var i = 0; i < chart.data.datasets.length; ++i) {
    chart.getDatasetMeta(i).data.forEach(function (el) {
      if (isFinite(el.x) && isFinite(el.y)) ++drawn;
    });
  }
  return drawn;
};
(function () {
  var lines = [];
  try {
    Chart.defaults.animation = false;
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    var specs = JSON.parse(document.getElementById('chart-data').textContent);
    specs.forEach(function (spec) {
      var chart = window.reportDraw(spec);
      lines.push('chart ' + spec.id + ' drawn ' + window.reportDrawn(chart) + ' expected ' +
                 spec.points);
    });
  } catch (e) {
    window.reportErrors.push(String(e && e.stack || e));
  }
  lines.push('errors ' + window.reportErrors.length);
  window.reportErrors.forEach(function (m) { lines.push('error ' + m.replace(/\n/g, ' ')); });
  document.getElementById('render-status').textContent = lines.join('\n');
})();
)";

// The live page's polling (see html_report.hpp): the charts updated in place.
const char* const live_script = R"(
(function () {
  var live = JSON.parse(document.getElementById('live-data').textContent);
  var note = document.getElementById('live-note');
  var status = document.getElementById('live-status');
  var records = live.records;
  var updates = 0;
  function log(line) { status.textContent += line + '\n'; }
  function say(text) { note.textContent = text; }
  function points() {
    var n = 0;
    Object.keys(window.reportCharts).forEach(function (id) {
      n += window.reportDrawn(window.reportCharts[id]);
    });
    return n;
  }
  // A chart that was not on the page: a figure in its section (added when it has none yet).
  function addFigure(spec) {
    var grid = document.querySelector('div.grid[data-section="' + spec.section + '"]');
    if (!grid) {
      var more = document.getElementById('live-more');
      var h = document.createElement('h2');
      h.textContent = spec.section;
      grid = document.createElement('div');
      grid.className = 'grid';
      grid.setAttribute('data-section', spec.section);
      more.appendChild(h);
      more.appendChild(grid);
    }
    var fig = document.createElement('figure');
    var title = document.createElement('h3');
    title.textContent = spec.title;
    var p = document.createElement('p');
    p.textContent = spec.note;
    var plot = document.createElement('div');
    plot.className = 'plot';
    var canvas = document.createElement('canvas');
    canvas.id = spec.id;
    plot.appendChild(canvas);
    fig.appendChild(title);
    fig.appendChild(p);
    fig.appendChild(plot);
    grid.appendChild(fig);
    window.reportDraw(spec);
  }
  function update(spec) {
    var chart = window.reportCharts[spec.id];
    if (!chart) return addFigure(spec);
    var next = spec.config.data;
    if (next.labels) chart.data.labels = next.labels;
    next.datasets.forEach(function (d, i) {
      if (i < chart.data.datasets.length) {
        chart.data.datasets[i].data = d.data;
        chart.data.datasets[i].label = d.label;
      } else {
        chart.data.datasets.push(d);
      }
    });
    chart.data.datasets.length = next.datasets.length;
    chart.update();
    var p = chart.canvas.parentNode.parentNode.querySelector('p');
    if (p) p.textContent = spec.note;
  }
  function apply(d) {
    if (d.records !== records && d.charts) {
      d.charts.forEach(update);
      records = d.records;
      ++updates;
      log('update ' + updates + ' records ' + records + ' points ' + points());
    }
    if (d.finished) {
      say('The run ended (' + records + ' records); reload the page for its summary.');
      log('finished errors ' + window.reportErrors.length);
      return;
    }
    say('Live: ' + records + ' records, last checked ' + new Date().toLocaleTimeString() + '.');
    setTimeout(poll, live.poll_ms);
  }
  function disconnected() {
    say('Disconnected: the run\'s server is gone (the run ended or was stopped); showing ' +
        records + ' records.');
    log('disconnected errors ' + window.reportErrors.length);
  }
  function poll() {
    fetch(live.data_url + '?since=' + records, {cache: 'no-store'})
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (d) {
        try {
          apply(d);
        } catch (e) {
          window.reportErrors.push(String(e && e.stack || e));
          log('error ' + String(e).replace(/\n/g, ' '));
        }
      }, disconnected);
  }
  say('Live: ' + records + ' records.');
  setTimeout(poll, live.poll_ms);
})();
)";

// JavaScript source that can stand inside a <script> element: a "</script" in it (only in a
// string, a regular expression or a comment) is written "<\\/script", which means the same.
std::string script_text(const std::string& js) {
  std::string out = js;
  for (size_t at = out.find("</script"); at != std::string::npos; at = out.find("</script", at))
    out.replace(at, 2, "<\\/");
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_json(const json& j) {
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

json chart_specs_json(const std::vector<chart_spec>& charts) {
  json specs = json::array();
  for (const auto& section : report_sections())
    for (const auto& c : charts) {
      if (c.section != section) continue;
      specs.push_back({{"id", c.id},
                       {"section", c.section},
                       {"title", c.title},
                       {"note", c.note},
                       {"points", c.points},
                       {"config", c.config}});
    }
  return specs;
}

std::string report_html(const std::vector<run_data>& runs, const std::vector<std::string>& names,
                        const std::vector<chart_spec>& charts, const std::string& chartjs,
                        const std::string& head, const std::optional<live_page_options>& live) {
  std::string title = "fedactor report: ";
  for (size_t i = 0; i < names.size(); ++i) title += (i ? ", " : "") + names[i];

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + html_escape(title) + "</title>\n<style>" + style + "</style>\n";
  h += head;
  h += "<script>" + std::string(error_capture) + "</script>\n</head>\n<body>\n<main>\n";
  h += "<h1>fedactor report</h1>\n<p class=\"sub\">" + std::to_string(runs.size()) +
       (runs.size() == 1 ? " run" : " runs") +
       ". Every chart overlays the runs; hover a point for its value, click a legend entry to "
       "hide a run.</p>\n";
  if (live) h += "<p class=\"sub\" id=\"live-note\">Live.</p>\n";

  // The runs side by side: where they are, how many records, their summary.json rows.
  h += "<h2>Runs</h2>\n<div class=\"wrap\"><table class=\"runs\">\n<tr><th></th>";
  for (size_t i = 0; i < runs.size(); ++i)
    h += "<th>" + swatch(i) + html_escape(names[i]) + "</th>";
  h += "</tr>\n<tr><th>directory</th>";
  for (const auto& r : runs) h += "<td><code>" + html_escape(r.dir) + "</code></td>";
  h += "</tr>\n<tr><th>records in metrics.jsonl</th>";
  for (const auto& r : runs)
    h += "<td class=\"num\">" + std::to_string(r.points.size()) +
         (r.async ? " async step" : " sync round") + (r.points.size() == 1 ? "" : "s") +
         (r.summary.is_null() ? " (no summary.json: the run did not end)" : "") + "</td>";
  h += "</tr>\n";
  for (const auto& row : summary_rows) {
    bool any = false;
    for (const auto& r : runs) any = any || (r.summary.is_object() && r.summary.contains(row.key));
    if (!any) continue;
    h += "<tr><th>" + std::string(row.label) + "</th>";
    for (const auto& r : runs) h += "<td class=\"num\">" + cell(r, row) + "</td>";
    h += "</tr>\n";
  }
  h += "</table></div>\n";

  // The charts, section by section.
  json specs = json::array();
  for (const auto& section : report_sections()) {
    std::string figures;
    for (const auto& c : charts) {
      if (c.section != section) continue;
      figures += "<figure><h3>" + html_escape(c.title) + "</h3><p>" + html_escape(c.note) +
                 "</p><div class=\"plot\"><canvas id=\"" + html_escape(c.id) +
                 "\"></canvas></div></figure>\n";
      specs.push_back({{"id", c.id}, {"points", c.points}, {"config", c.config}});
    }
    bool events_here = false;
    if (section == "Events")
      for (const auto& r : runs) events_here = events_here || !r.events.empty();
    if (figures.empty() && !events_here) continue;
    h += "<h2>" + html_escape(section) + "</h2>\n";
    if (!figures.empty())
      h += "<div class=\"grid\" data-section=\"" + html_escape(section) + "\">\n" + figures +
           "</div>\n";
    if (events_here) {
      h += "<h3 style=\"margin-top:14px\">Events</h3>\n<div class=\"wrap\"><table>\n"
           "<tr><th>run</th><th>round / step</th><th>simulated time (s)</th><th>kind</th>"
           "<th>target</th><th>trigger</th><th>clients / edges changed</th></tr>\n";
      for (size_t i = 0; i < runs.size(); ++i)
        for (const auto& e : runs[i].events)
          h += "<tr><td>" + swatch(i) + html_escape(names[i]) + "</td><td class=\"num\">" +
               std::to_string(e.step) + "</td><td class=\"num\">" +
               format_value(json(e.sim_time_s)) + "</td><td>" + html_escape(e.kind) + "</td><td>" +
               html_escape(e.target) + "</td><td>" + html_escape(e.trigger) +
               "</td><td class=\"num\">" +
               (e.changed < 0 ? std::string("&mdash;") : std::to_string(e.changed)) +
               "</td></tr>\n";
      h += "</table></div>\n";
    }
  }

  if (live) h += "<div id=\"live-more\"></div>\n<pre id=\"live-status\"></pre>\n";
  h += "<pre id=\"render-status\">not rendered</pre>\n</main>\n";
  h += "<script>\n" + script_text(chartjs) + "\n</script>\n";
  h += "<script type=\"application/json\" id=\"chart-data\">" + script_json(specs) + "</script>\n";
  h += "<script>" + std::string(render) + "</script>\n";
  if (live) {
    const json options{
        {"data_url", live->data_url}, {"records", live->records}, {"poll_ms", live->poll_ms}};
    h += "<script type=\"application/json\" id=\"live-data\">" + script_json(options) +
         "</script>\n<script>" + std::string(live_script) + "</script>\n";
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace fedactor
