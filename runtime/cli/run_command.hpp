#pragma once

// `fedactor run SCENARIO.yaml [--set key=value]... [--out DIR] [--quiet]`
// `fedactor run --resume DIR` (resume_command.hpp)

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// The options of `fedactor run` (parse_cli; the bash completion reads them too).
cli_spec run_cli_spec();

// Exit codes: 0 done, 2 bad scenario or arguments, 1 the run failed, 128 + the signal that
// stopped it. --help and argument errors go to `out` / `err`; the run itself writes its
// progress, summary and errors to stdout / stderr.
int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_command(const std::vector<std::string>& args);

}  // namespace fedactor
