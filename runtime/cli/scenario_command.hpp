#pragma once

// `fedactor scenario check FILE [--set key=value]...`: loads and validates FILE exactly as
// `fedactor run` does (load_run_scenario) and prints the effective scenario (to_yaml: every
// key with its value) on stdout; a bad scenario is the same one line as `fedactor run` gives.
// `fedactor scenario keys [--format table|markdown|json]`: every key with its type, allowed
// values, default and meaning (key_reference.hpp; docs/scenarios.md holds the Markdown form).

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// The options of `fedactor scenario SUB` for SUB "check" or "keys" (parse_cli; the bash
// completion reads them too).
cli_spec scenario_cli_spec(const std::string& sub);

// Exit codes: 0 done (or --help), 2 bad arguments or a bad scenario (one line on `err`).
int scenario_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int scenario_command(const std::vector<std::string>& args);

}  // namespace fedactor
