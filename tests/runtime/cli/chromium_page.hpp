#pragma once

// Test helper: a report page (a file:// or http:// URL) loaded in headless Chromium, and the
// render status its script writes once the charts are drawn (runtime/report/html_report.hpp):
// "chart ID drawn N expected M" per chart, then "errors K" and the errors.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/cli/report_command.hpp"
#include "runtime/report/chart_spec.hpp"
#include "runtime/report/run_data.hpp"

namespace fedactor::testing {

struct chromium_page {
  std::string status;       // the text of <pre id="render-status">
  std::string live_status;  // the text of <pre id="live-status"> (a live page), else empty
  std::string log;          // Chromium's stderr (console messages appear as ":CONSOLE")
};

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Loads `url` in headless Chromium (REQUIREs it; TEST_PACKAGES: make test-deps), its profile
// and output files in `work`; the DOM is read when `virtual_time_ms` of virtual time passed
// (it stands still while a request is pending: a live page's polls each take their interval).
inline chromium_page load_in_chromium(const std::string& url, const std::filesystem::path& work,
                                      int virtual_time_ms = 5000) {
  REQUIRE(std::system("command -v chromium >/dev/null 2>&1") == 0);
  const auto dom = work / "dom.html";
  const auto log = work / "chromium.log";
  // As root Chromium needs --no-sandbox; its own profile keeps parallel tests apart; virtual
  // time ends the load deterministically (the page draws synchronously, animations off).
  const std::string cmd =
      "timeout 60 chromium --headless --disable-gpu --no-sandbox "
      "--no-first-run --user-data-dir='" +
      (work / "profile").string() + "' --virtual-time-budget=" + std::to_string(virtual_time_ms) +
      " --enable-logging=stderr --v=0 "
      "--dump-dom '" +
      url + "' >'" + dom.string() + "' 2>'" + log.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  chromium_page page;
  page.log = read_text(log);
  const std::string text = read_text(dom);
  const std::string open = "<pre id=\"render-status\">";
  const auto from = text.find(open);
  INFO(text.substr(0, 2000));
  REQUIRE(from != std::string::npos);
  const auto to = text.find("</pre>", from);
  REQUIRE(to != std::string::npos);
  page.status = text.substr(from + open.size(), to - from - open.size());
  const std::string live_open = "<pre id=\"live-status\">";
  if (const auto at = text.find(live_open); at != std::string::npos)
    page.live_status =
        text.substr(at + live_open.size(), text.find("</pre>", at) - at - live_open.size());
  return page;
}

// The render status of a page of `runs` whose every chart drew all its points without error;
// the chart ids in `ids`.
inline std::string all_drawn_status(const std::vector<run_data>& runs,
                                    std::vector<std::string>* ids = nullptr) {
  std::vector<std::string> dir_names;
  for (const auto& r : runs) dir_names.push_back(r.name);
  std::string expected;
  for (const auto& c : report_charts(runs, run_names(dir_names))) {
    REQUIRE(c.points > 0);
    expected += "chart " + c.id + " drawn " + std::to_string(c.points) + " expected " +
                std::to_string(c.points) + "\n";
    if (ids) ids->push_back(c.id);
  }
  return expected + "errors 0";
}

}  // namespace fedactor::testing
