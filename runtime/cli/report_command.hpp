#pragma once

// `fedactor report RUN_DIR... [--out FILE.html]`: one self-contained HTML page comparing the
// runs (runtime/report/html_report.hpp, docs/report.md).

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// The options of `fedactor report` (parse_cli; the bash completion reads them too).
cli_spec report_cli_spec();

// The Chart.js file the page inlines: $FEDACTOR_CHARTJS when set, else the one CMake found at
// configure time (libjs-chart.js, -DFEDACTOR_CHARTJS=... to choose another).
std::string chartjs_path();

// Where the page goes without --out: DIR/report.html for one run; PARENT/report.html for runs
// that share their parent directory; empty (--out is needed) otherwise.
std::string default_report_path(const std::vector<std::string>& dirs);

// The runs' names in the page: each directory's name, " (2)", " (3)"... added to repeats.
std::vector<std::string> run_names(const std::vector<std::string>& dir_names);

// Exit status: 0 the page is written (its path on `out`); 2 bad arguments or a run directory
// that cannot be read (one line on `err` naming the file and line); 1 Chart.js missing or the
// page cannot be written (one line on `err`).
int report_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// The same on stdout / stderr.
int report_command(const std::vector<std::string>& args);

}  // namespace fedactor
