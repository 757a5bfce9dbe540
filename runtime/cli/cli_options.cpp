#include "runtime/cli/cli_options.hpp"

#include <string>

namespace fedactor {

std::optional<int> parse_cli(const std::vector<std::string>& args, const cli_spec& spec,
                             po::variables_map& vm, std::ostream& out, std::ostream& err) {
  po::options_description visible = spec.options;
  visible.add_options()("help,h", "print this help and exit");
  po::options_description all;
  all.add(visible).add(spec.hidden);
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::store(
        po::command_line_parser(args).options(all).positional(spec.positional).style(style).run(),
        vm);
    if (vm.count("help")) {
      out << spec.usage << visible;
      return 0;
    }
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::string name = e.get_option_name();  // "--x=1" as given: name the option only
    name = name.substr(0, name.find('='));
    err << spec.command << ": unknown option '" << name << "' (see " << spec.command
        << " --help)\n";
    return 2;
  } catch (const po::too_many_positional_options_error&) {
    err << spec.command << ": too many arguments (see " << spec.command << " --help)\n";
    return 2;
  } catch (const po::error& e) {
    err << spec.command << ": " << e.what() << " (see " << spec.command << " --help)\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace fedactor
