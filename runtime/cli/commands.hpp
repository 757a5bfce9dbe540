#pragma once

// The `fedactor` commands: their table (every command and node role with its options, as
// parse_cli reads them), the command list of `fedactor help`, and the dispatch of main().
//
//   fedactor COMMAND [ARGS]...      run, node ROLE, bench, report, scenario SUB,
//                                   completion bash, version, help [COMMAND]
//   fedactor --version | --help
//
// No command or an unknown one: the command list on stderr, exit 2.

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// One command line form: "run" (group empty) or "node edge" (group "node", name "edge").
struct cli_command {
  std::string group;  // "node", "scenario", "completion"; empty for a command of its own
  std::string name;
  cli_spec (*spec)(const std::string& name);  // its options
};

// Every command, in the order of the command list.
const std::vector<cli_command>& cli_commands();

// The command list (`fedactor help`).
extern const char* const fedactor_usage;

// main(): `args` are argv[1..]. The commands' --help and argument errors go to `out` / `err`.
int fedactor_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace fedactor
