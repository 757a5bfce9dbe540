#include "runtime/cli/cli_options.hpp"

#include <string>

namespace fedactor {

namespace {

// "--name value" -> "--name=value" for the options of `all` that take a value, so a value
// that starts with '-' (a negative number) reaches the option instead of being read as an
// option itself. A word starting with "--" there is an option: the value is missing (thrown
// as po does).
std::vector<std::string> join_values(const std::vector<std::string>& args,
                                     const po::options_description& all) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // the rest are positional arguments
      out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    const auto* opt = a.size() > 2 && a.rfind("--", 0) == 0 && a.find('=') == std::string::npos
                          ? all.find_nothrow(a.substr(2), false)
                          : nullptr;
    if (opt && opt->semantic()->max_tokens() > 0 && i + 1 < args.size()) {
      const std::string& next = args[i + 1];
      // po would take the option as the value.
      if (next.rfind("--", 0) == 0)
        throw po::invalid_command_line_syntax(po::invalid_command_line_syntax::missing_parameter,
                                              a.substr(2), a, po::command_line_style::allow_long);
      // An empty value stays a word of its own: po takes it as the value ("--x=" it refuses).
      if (!next.empty()) {
        out.push_back(a + "=" + next);
        ++i;
        continue;
      }
    }
    out.push_back(a);
  }
  return out;
}

}  // namespace

std::optional<int> parse_cli(const std::vector<std::string>& args, const cli_spec& spec,
                             po::variables_map& vm, std::ostream& out, std::ostream& err) {
  po::options_description visible = spec.options;
  visible.add_options()("help,h", "print this help and exit");
  po::options_description all;
  all.add(visible).add(spec.hidden);
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::store(po::command_line_parser(join_values(args, all))
                  .options(all)
                  .positional(spec.positional)
                  .style(style)
                  .run(),
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

bool count_option(const po::variables_map& vm, const std::string& name, uint32_t lo, uint32_t hi,
                  uint32_t& out, std::string& error) {
  if (!vm.count(name)) return true;
  const std::string text = vm[name].as<std::string>();
  if (!text.empty() && text.size() <= 10 &&
      text.find_first_not_of("0123456789") == std::string::npos) {
    const auto v = std::stoull(text);
    if (v >= lo && v <= hi) {
      out = static_cast<uint32_t>(v);
      return true;
    }
  }
  error = "--" + name + ": expected a whole number in [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "], got '" + text + "'";
  return false;
}

std::vector<std::string> list_option(const po::variables_map& vm, const std::string& name) {
  return vm.count(name) ? vm[name].as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::string string_option(const po::variables_map& vm, const std::string& name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string{};
}

}  // namespace fedactor
