#include "runtime/cli/report_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "runtime/report/chart_spec.hpp"
#include "runtime/report/html_report.hpp"
#include "runtime/report/run_data.hpp"

#ifndef FEDACTOR_CHARTJS_PATH
#error "FEDACTOR_CHARTJS_PATH (the Chart.js file CMake found) is not defined"
#endif

namespace fedactor {

namespace {

namespace fs = std::filesystem;

constexpr const char* usage =
    "usage: fedactor report RUN_DIR... [--out FILE.html]\n"
    "  one self-contained HTML page comparing the runs (default: RUN_DIR/report.html for one\n"
    "  run, PARENT/report.html for runs in the same directory)\n";

// The directory holding run directory `dir`, as given ("runs/x/" -> "runs", "x" -> "").
fs::path parent_of(const std::string& dir) {
  fs::path p = fs::path{dir}.lexically_normal();
  if (p.filename().empty()) p = p.parent_path();  // "runs/x/" -> "runs/x"
  return p.parent_path();
}

fs::path absolute_dir(const fs::path& p) {
  return fs::absolute(p.empty() ? fs::path{"."} : p).lexically_normal();
}

}  // namespace

std::string chartjs_path() {
  const char* env = std::getenv("FEDACTOR_CHARTJS");
  if (env != nullptr && *env != '\0') return env;
  return FEDACTOR_CHARTJS_PATH;
}

std::string default_report_path(const std::vector<std::string>& dirs) {
  if (dirs.size() == 1) return (fs::path{dirs[0]} / "report.html").string();
  const fs::path parent = parent_of(dirs.at(0));
  for (const auto& d : dirs)
    if (absolute_dir(parent_of(d)) != absolute_dir(parent)) return "";
  return (parent / "report.html").string();
}

std::vector<std::string> run_names(const std::vector<std::string>& dir_names) {
  std::map<std::string, int> seen;
  std::vector<std::string> names;
  for (const auto& n : dir_names) {
    int k = ++seen[n];
    names.push_back(k == 1 ? n : n + " (" + std::to_string(k) + ")");
  }
  return names;
}

cli_spec report_cli_spec() {
  cli_spec spec{"fedactor report", usage, po::options_description{"options"},
                po::options_description{}, po::positional_options_description{}};
  spec.options.add_options()("out", po::value<std::string>()->value_name("FILE.html"),
                             "where the page goes (needed for runs in different directories)");
  spec.hidden.add_options()("dirs", po::value<std::vector<std::string>>()->value_name("RUN_DIR"),
                            "");
  spec.positional.add("dirs", -1);
  return spec;
}

int report_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::variables_map vm;
  if (auto code = parse_cli(args, report_cli_spec(), vm, out, err)) return *code;
  const auto dirs = list_option(vm, "dirs");
  std::string out_path = string_option(vm, "out");
  if (dirs.empty()) {
    err << "fedactor report: no run directory given (see fedactor report --help)\n";
    return 2;
  }
  if (vm.count("out") && out_path.empty()) {
    err << "fedactor report: --out: expected a file name, got ''\n";
    return 2;
  }
  if (out_path.empty()) out_path = default_report_path(dirs);
  if (out_path.empty()) {
    err << "fedactor report: the runs are in different directories: give the page's path with "
           "--out FILE.html\n";
    return 2;
  }

  std::vector<run_data> runs;
  std::vector<std::string> dir_names;
  try {
    for (const auto& d : dirs) {
      runs.push_back(load_run(d));
      dir_names.push_back(runs.back().name);
    }
  } catch (const report_input_error& e) {
    err << "fedactor report: " << e.what() << "\n";
    return 2;
  }

  const std::string js_path = chartjs_path();
  std::ifstream js(js_path, std::ios::binary);
  if (!js) {
    err << "fedactor report: Chart.js not found at " << js_path
        << " (install libjs-chart.js or set FEDACTOR_CHARTJS)\n";
    return 1;
  }
  std::stringstream chartjs;
  chartjs << js.rdbuf();

  const auto names = run_names(dir_names);
  const auto charts = report_charts(runs, names);
  std::ofstream page(out_path, std::ios::binary | std::ios::trunc);
  page << report_html(runs, names, charts, chartjs.str());
  page.close();
  if (!page) {
    err << "fedactor report: cannot write " << out_path << "\n";
    return 1;
  }
  out << "report: " << out_path << " (" << runs.size() << (runs.size() == 1 ? " run, " : " runs, ")
      << charts.size() << " charts)\n";
  return 0;
}

int report_command(const std::vector<std::string>& args) {
  return report_command(args, std::cout, std::cerr);
}

}  // namespace fedactor
