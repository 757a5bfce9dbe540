#include "runtime/cli/scenario_command.hpp"

#include <iostream>

#include "runtime/cli/cli_options.hpp"
#include "runtime/cli/run_output.hpp"
#include "runtime/scenario/key_reference.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

constexpr const char* usage =
    "usage: fedactor scenario check SCENARIO.yaml [--set key=value]...\n"
    "       fedactor scenario keys [--format table|markdown|json]\n"
    "  check: load and validate the scenario as `fedactor run` does and print the effective\n"
    "         configuration (every key with its value) as YAML; exit 2 on the first error\n"
    "  keys:  every scenario key with its type, allowed values, default and meaning\n"
    "         (docs/scenarios.md)\n";

constexpr const char* check_usage =
    "usage: fedactor scenario check SCENARIO.yaml [--set key=value]...\n"
    "  loads SCENARIO.yaml, applies each --set in order and validates the result exactly as\n"
    "  `fedactor run` does, then prints the effective scenario (every key with its value) as\n"
    "  YAML on stdout, exit 0; a bad scenario is one line on stderr, exit 2\n";

constexpr const char* keys_usage =
    "usage: fedactor scenario keys [--format table|markdown|json]\n"
    "  every scenario key with its type, allowed values, default and meaning\n";

int check(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const cli_spec spec = scenario_cli_spec("check");
  po::variables_map vm;
  if (auto code = parse_cli(args, spec, vm, out, err)) return *code;
  if (!vm.count("file")) {
    err << "fedactor scenario check: no scenario file given (see fedactor scenario check "
           "--help)\n";
    return 2;
  }
  const auto overrides =
      vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  scenario sc;
  if (auto e = load_run_scenario(vm["file"].as<std::string>(), overrides, sc)) {
    err << "error: " << *e << '\n';
    return 2;
  }
  out << to_yaml(sc);
  return 0;
}

int keys(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const cli_spec spec = scenario_cli_spec("keys");
  po::variables_map vm;
  if (auto code = parse_cli(args, spec, vm, out, err)) return *code;
  const auto format = vm["format"].as<std::string>();
  const auto all = scenario_keys();
  if (format == "table") {
    out << keys_text(all);
  } else if (format == "markdown") {
    out << keys_markdown(all);
  } else if (format == "json") {
    out << keys_json(all);
  } else {
    err << "fedactor scenario keys: --format must be one of: table, markdown, json, got '" << format
        << "'\n";
    return 2;
  }
  return 0;
}

}  // namespace

cli_spec scenario_cli_spec(const std::string& sub) {
  cli_spec spec{"fedactor scenario " + sub, sub == "check" ? check_usage : keys_usage,
                po::options_description{"options"}, po::options_description{},
                po::positional_options_description{}};
  if (sub == "check") {
    spec.options.add_options()(
        "set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
        "override one key after the file is loaded (repeatable; docs/scenarios.md, "
        "\"Overrides\")");
    spec.hidden.add_options()("file", po::value<std::string>()->value_name("SCENARIO.yaml"), "");
    spec.positional.add("file", 1);
  } else {
    spec.options.add_options()(
        "format",
        po::value<std::string>()->default_value("table")->value_name("table|markdown|json"),
        "table (aligned text), markdown (the table of docs/scenarios.md) or json");
  }
  return spec;
}

int scenario_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << usage;
    return 2;
  }
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "check") return check(rest, out, err);
  if (sub == "keys") return keys(rest, out, err);
  if (sub == "-h" || sub == "--help") {
    out << usage;
    return 0;
  }
  if (!sub.empty() && sub[0] == '-') {
    err << "fedactor scenario: unknown option '" << sub << "' (see fedactor scenario --help)\n";
    return 2;
  }
  err << "fedactor scenario: unknown subcommand '" << sub
      << "' (check or keys; see fedactor scenario --help)\n";
  return 2;
}

int scenario_command(const std::vector<std::string>& args) {
  return scenario_command(args, std::cout, std::cerr);
}

}  // namespace fedactor
