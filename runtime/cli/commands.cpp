#include "runtime/cli/commands.hpp"

#include "runtime/cli/bash_completion.hpp"
#include "runtime/cli/bench_command.hpp"
#include "runtime/cli/node_command.hpp"
#include "runtime/cli/report_command.hpp"
#include "runtime/cli/run_command.hpp"
#include "runtime/cli/scenario_command.hpp"
#include "runtime/cli/version.hpp"

namespace fedactor {

const char* const fedactor_usage =
    "usage: fedactor COMMAND ...\n"
    "commands:\n"
    "  run SCENARIO.yaml [--set key=value]... [--out DIR] [--overwrite] [--threads N] [--quiet]\n"
    "      run a scenario in this process; writes metrics.jsonl, summary.json,\n"
    "      model.pt and scenario.yaml to DIR (default runs/NAME-TIMESTAMP; a DIR that\n"
    "      holds a run is refused unless --overwrite); Ctrl-C stops cleanly (exit 130)\n"
    "  run --resume DIR [--threads N] [--quiet]\n"
    "      continue the run in DIR from its last checkpoint (docs/checkpoints.md)\n"
    "  node server|edge|clients ...\n"
    "      one node of a distributed run (fedactor node ROLE --help, docs/deployment.md)\n"
    "  bench [--populations 1e3,1e4,...] [--clients-per-round N] [--rounds N] [--threads N]\n"
    "        [--mode sync|async] [--set key=value]... [--json]\n"
    "      the throughput and scale table of workload W1 (docs/benchmarks.md); with\n"
    "      --nodes E [--hosts-per-edge K]: W1 across processes on 127.0.0.1 beside one process\n"
    "  report RUN_DIR... [--out FILE.html]\n"
    "      one self-contained HTML page comparing the runs' curves and summaries\n"
    "      (default RUN_DIR/report.html; docs/report.md)\n"
    "  scenario check SCENARIO.yaml [--set key=value]...\n"
    "      load and validate a scenario as run does and print its effective configuration\n"
    "  scenario keys [--format table|markdown|json]\n"
    "      every scenario key with its type, allowed values, default and meaning\n"
    "  completion bash\n"
    "      the bash completion script: source <(fedactor completion bash)\n"
    "  version, --version\n"
    "      print fedactor's version\n"
    "  help [COMMAND], --help\n"
    "      this list, or the options of COMMAND (as fedactor COMMAND --help)\n"
    "every command takes --help; options are --key value or --key=value (docs/cli.md)\n";

namespace {

cli_spec no_options(const std::string& command, const std::string& usage) {
  return cli_spec{command, usage, po::options_description{"options"}, po::options_description{},
                  po::positional_options_description{}};
}

cli_spec version_cli_spec(const std::string&) {
  return no_options("fedactor version",
                    "usage: fedactor version\n       fedactor --version\n"
                    "  prints \"fedactor VERSION\"\n");
}

cli_spec help_cli_spec(const std::string&) {
  auto spec = no_options("fedactor help",
                         "usage: fedactor help [COMMAND]\n"
                         "  the command list, or the options of COMMAND\n");
  spec.hidden.add_options()("command", po::value<std::vector<std::string>>()->value_name("COMMAND"),
                            "");
  spec.positional.add("command", -1);
  return spec;
}

int version_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  po::variables_map vm;
  if (auto code = parse_cli(args, version_cli_spec(""), vm, out, err)) return *code;
  out << "fedactor " << fedactor_version() << '\n';
  return 0;
}

}  // namespace

const std::vector<cli_command>& cli_commands() {
  static const std::vector<cli_command> all{
      {"", "run", [](const std::string&) { return run_cli_spec(); }},
      {"node", "server", node_cli_spec},
      {"node", "edge", node_cli_spec},
      {"node", "clients", node_cli_spec},
      {"", "bench", [](const std::string&) { return bench_cli_spec(); }},
      {"", "report", [](const std::string&) { return report_cli_spec(); }},
      {"scenario", "check", scenario_cli_spec},
      {"scenario", "keys", scenario_cli_spec},
      {"completion", "bash", [](const std::string&) { return completion_cli_spec(); }},
      {"", "version", version_cli_spec},
      {"", "help", help_cli_spec},
  };
  return all;
}

int fedactor_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << fedactor_usage;
    return 2;
  }
  const std::string& command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "run") return run_command(rest, out, err);
  if (command == "node") return node_command(rest, out, err);
  if (command == "bench") return bench_command(rest, out, err);
  if (command == "report") return report_command(rest, out, err);
  if (command == "scenario") return scenario_command(rest, out, err);
  if (command == "completion") return completion_command(rest, out, err);
  if (command == "version" || command == "--version") return version_command(rest, out, err);
  if (command == "help" || command == "--help" || command == "-h") {
    po::variables_map vm;
    if (auto code = parse_cli(rest, help_cli_spec(""), vm, out, err)) return *code;
    auto words = list_option(vm, "command");
    if (words.empty()) {
      out << fedactor_usage;
      return 0;
    }
    if (words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
      out << fedactor_usage;
      return 0;
    }
    words.push_back("--help");  // `fedactor help node edge` = `fedactor node edge --help`
    return fedactor_main(words, out, err);
  }
  if (!command.empty() && command[0] == '-')
    err << "fedactor: unknown option '" << command << "'\n" << fedactor_usage;
  else
    err << "fedactor: unknown command '" << command << "'\n" << fedactor_usage;
  return 2;
}

}  // namespace fedactor
