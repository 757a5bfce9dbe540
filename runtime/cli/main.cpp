// The `fedactor` executable: dispatches to a subcommand.

#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/bench_command.hpp"
#include "runtime/cli/node_command.hpp"
#include "runtime/cli/report_command.hpp"
#include "runtime/cli/run_command.hpp"
#include "runtime/cli/scenario_command.hpp"

namespace {

constexpr const char* usage =
    "usage: fedactor COMMAND ...\n"
    "commands:\n"
    "  run SCENARIO.yaml [--set key=value]... [--out DIR] [--overwrite] [--threads N] [--quiet]\n"
    "      run a scenario in this process; writes metrics.jsonl, summary.json,\n"
    "      model.pt and scenario.yaml to DIR (default runs/NAME-TIMESTAMP; a DIR that\n"
    "      holds a run is refused unless --overwrite); Ctrl-C stops cleanly (exit 130)\n"
    "  run --resume DIR [--threads N] [--quiet]\n"
    "      continue the run in DIR from its last checkpoint (docs/checkpoints.md)\n"
    "  node server|edge|clients ...\n"
    "      one node of a distributed run (fedactor node --help, docs/deployment.md)\n"
    "  bench [--populations 1e3,1e4,...] [--clients-per-round N] [--rounds N] [--threads N]\n"
    "        [--mode sync|async] [--set key=value]... [--json]\n"
    "      the throughput and scale table of workload W1 (docs/benchmarks.md)\n"
    "  report RUN_DIR... [--out FILE.html]\n"
    "      one self-contained HTML page comparing the runs' curves and summaries\n"
    "      (default RUN_DIR/report.html; docs/report.md)\n"
    "  scenario check SCENARIO.yaml [--set key=value]...\n"
    "      load and validate a scenario as run does and print its effective configuration\n"
    "  scenario keys [--format table|markdown|json]\n"
    "      every scenario key with its type, allowed values, default and meaning\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "run") return fedactor::run_command(args);
  if (command == "node") return fedactor::node_command(args);
  if (command == "bench") return fedactor::bench_command(args);
  if (command == "report") return fedactor::report_command(args);
  if (command == "scenario") return fedactor::scenario_command(args);
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "fedactor: unknown command '" << command << "'\n" << usage;
  return 2;
}
