#include "runtime/report/html_report.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/cli/report_command.hpp"

using namespace fedactor;

namespace {

run_data tiny_run() {
  run_data r;
  r.dir = "runs/tiny-1";
  r.name = "tiny-1";
  r.scenario = "tiny";
  run_point p;
  p.step = 1;
  p.mean_loss = 2.0625;
  p.clients = 3;
  p.sim_time_s = 1.5;
  r.points = {p};
  r.events = {{1, "edge_down", "edge <2>", "round 1", 1.5, 1}};
  r.summary = nlohmann::json{{"scenario", "tiny"},
                             {"protocol", "sync"},
                             {"rounds", 1},
                             {"final_loss", 2.0625},
                             {"model_sha256", "0123456789abcdef0123"}};
  return r;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("html_escape and script_json make text safe inside the page", "[report]") {
  CHECK(html_escape(R"(<a href="x">&'</a>)") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  CHECK(script_json(nlohmann::json{{"t", "</script><b>"}}) == R"({"t":"<\/script><b>"})");
}

TEST_CASE("report_html inlines the library and the data and loads nothing from the network",
          "[report]") {
  auto runs = std::vector<run_data>{tiny_run()};
  std::vector<std::string> names{"tiny-1"};
  auto charts = report_charts(runs, names);
  const std::string lib = "/* CHARTJS-STAND-IN */ var Chart = function () {}; // '</script>'";
  const std::string page = report_html(runs, names, charts, lib);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  // The library, whole, once; its "</script" cannot end the element.
  CHECK(count(page, "/* CHARTJS-STAND-IN */ var Chart = function () {}; // '<\\/script>'") == 1);
  // Nothing is fetched: no external script, style sheet, image or address at all.
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("url(") == std::string::npos);
  // The data: every chart's canvas and configuration, the loss value, the expected points.
  for (const auto& c : charts) {
    CHECK(count(page, "<canvas id=\"" + c.id + "\">") == 1);
    CHECK(count(page, "{\"config\":" + script_json(c.config) + ",\"id\":\"" + c.id +
                          "\",\"points\":" + std::to_string(c.points) + "}") == 1);
  }
  CHECK(page.find("\"y\":2.0625") != std::string::npos);
  // The runs table (directory, records, summary.json rows) and the events table, escaped.
  CHECK(page.find("<tr><th>directory</th><td><code>runs/tiny-1</code></td></tr>") !=
        std::string::npos);
  CHECK(page.find("<tr><th>records in metrics.jsonl</th><td class=\"num\">1 sync round</td>") !=
        std::string::npos);
  CHECK(page.find("<th>final training loss</th><td class=\"num\">2.062</td>") != std::string::npos);
  CHECK(page.find("<code title=\"0123456789abcdef0123\">0123456789ab&hellip;</code>") !=
        std::string::npos);
  CHECK(page.find("<td>edge &lt;2&gt;</td>") != std::string::npos);
  CHECK(page.find("<title>fedactor report: tiny-1</title>") != std::string::npos);
  CHECK(page.find("<pre id=\"render-status\">not rendered</pre>") != std::string::npos);
  // Offline: no live polling.
  CHECK(page.find("fetch(") == std::string::npos);
  CHECK(page.find("live-data") == std::string::npos);
}

TEST_CASE("report_html with live options polls its data URL and has the live status lines",
          "[report]") {
  auto runs = std::vector<run_data>{tiny_run()};
  std::vector<std::string> names{"tiny-1"};
  const std::string page = report_html(runs, names, report_charts(runs, names), "", {},
                                       live_page_options{"/data.json", 1, 2000});
  CHECK(count(page,
              "<script type=\"application/json\" id=\"live-data\">"
              "{\"data_url\":\"/data.json\",\"poll_ms\":2000,\"records\":1}</script>") == 1);
  CHECK(count(page, "<p class=\"sub\" id=\"live-note\">Live.</p>") == 1);
  CHECK(count(page, "<pre id=\"live-status\"></pre>") == 1);
  CHECK(count(page, "<div id=\"live-more\"></div>") == 1);
  CHECK(count(page, "fetch(live.data_url + '?since=' + records") == 1);
  CHECK(page.find("<div class=\"grid\" data-section=\"Training\">") != std::string::npos);
  // Nothing but its own server's path.
  CHECK(page.find("http://") == std::string::npos);
}

TEST_CASE("chart_specs_json lists every chart with its section, title, note and points",
          "[report]") {
  auto runs = std::vector<run_data>{tiny_run()};
  const auto charts = report_charts(runs, {"tiny-1"});
  const auto j = chart_specs_json(charts);
  REQUIRE(j.size() == charts.size());
  for (size_t i = 0; i < charts.size(); ++i) {
    CHECK(j[i] == nlohmann::json{{"id", charts[i].id},
                                 {"section", charts[i].section},
                                 {"title", charts[i].title},
                                 {"note", charts[i].note},
                                 {"points", charts[i].points},
                                 {"config", charts[i].config}});
  }
}

TEST_CASE("report_html inlines the configured Chart.js file", "[report]") {
  std::ifstream in(chartjs_path(), std::ios::binary);
  REQUIRE(in);
  std::stringstream lib;
  lib << in.rdbuf();
  REQUIRE(lib.str().size() > 100000);
  auto runs = std::vector<run_data>{tiny_run()};
  std::vector<std::string> names{"tiny-1"};
  const std::string page = report_html(runs, names, report_charts(runs, names), lib.str());
  CHECK(page.find("<script>\n" + lib.str() + "\n</script>") != std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
}
