#pragma once

// `fedactor completion bash`: a bash completion script generated from the commands' option
// specs (commands.hpp): the commands, the node roles and scenario subcommands, each
// command's options, and their values by value name (cli_options.hpp): one of the words of
// "a|b|c", a directory for a name ending in DIR, a file for FILE..., a scenario file (*.yaml
// or a directory) for *.yaml; positional arguments the same by their value name.
//
//   source <(fedactor completion bash)      # or save it to ~/.local/share/bash-completion/
//                                           #   completions/fedactor

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// What a value is completed with, by its value name.
enum class value_completion { none, words, directory, file, scenario_file };
value_completion completion_of(const std::string& value_name);

// The script: defines _fedactor and registers it for the command `fedactor` (bash also uses
// it for build/fedactor: it falls back to the name after the last slash).
std::string bash_completion_script();

cli_spec completion_cli_spec();

// `fedactor completion bash`: the script on `out`, exit 0; any other shell: one line, exit 2.
int completion_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace fedactor
