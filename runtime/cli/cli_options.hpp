#pragma once

// The program_options convention of fedactor's commands: one call parses a command's
// arguments with Boost.Program_options and handles what every command handles the same way.
//
//   - `--key value` and `--key=value`; no abbreviated option names (no prefix guessing); the
//     word after an option that takes a value is its value unless it starts with "--" (so
//     `--threads -3` is refused as a bad number, `--out --quiet` as a missing value);
//   - `-h` / `--help` (added here): prints the usage line(s) and the option list to `out`,
//     exit 0;
//   - an unknown option, a missing or bad value, an option given twice that takes one value,
//     too many positional arguments: one line "<command>: <what> (see <command> --help)" on
//     `err`, exit 2.
//
// A command adopts it as:
//
//   po::options_description opts{"options"};
//   opts.add_options()("set", po::value<std::vector<std::string>>(), "...");
//   po::positional_options_description pos;  pos.add("file", 1);
//   po::variables_map vm;
//   if (auto code = parse_cli(args, {"fedactor x", usage, opts, hidden, pos}, vm, out, err))
//     return *code;
//
// The value name of an option (po::value<...>()->value_name(...)) also tells the bash
// completion (bash_completion.hpp) what the value is: "a|b|c" one of those words, a name
// ending in DIR a directory, FILE... a file, *.yaml a scenario file; other names (N,
// HOST:PORT, ...) are not completed. Positional arguments take the value name of their hidden
// option.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace fedactor {

namespace po = boost::program_options;

struct cli_spec {
  std::string command;              // "fedactor scenario check", prefixes errors
  std::string usage;                // printed first by --help ("usage: ...\n...")
  po::options_description options;  // listed by --help
  po::options_description hidden;   // parsed, not listed (positional targets)
  po::positional_options_description positional;
};

// Parses `args` (the arguments after the command's name) into `vm` (notify() included).
// nullopt: go on with `vm`; otherwise the command returns the value (0 after --help, 2 after
// an error line).
std::optional<int> parse_cli(const std::vector<std::string>& args, const cli_spec& spec,
                             po::variables_map& vm, std::ostream& out, std::ostream& err);

// The whole number of option `name` (given as a string) into `out` when it is in [lo, hi];
// false with `error` = "--NAME: expected a whole number in [LO, HI], got 'TEXT'" otherwise.
// True and `out` unchanged when the option is absent.
bool count_option(const po::variables_map& vm, const std::string& name, uint32_t lo, uint32_t hi,
                  uint32_t& out, std::string& error);

// The values of a repeatable option in the order given; empty when absent.
std::vector<std::string> list_option(const po::variables_map& vm, const std::string& name);

// The value of a single string option; empty when absent.
std::string string_option(const po::variables_map& vm, const std::string& name);

}  // namespace fedactor
