// libFuzzer target: the scenario loader, as `fedactor run FILE --set ...` and a node's
// welcome (the server's scenario as YAML text) use it. Input lines starting with "--set "
// are overrides, applied in order after the other lines are loaded as the scenario's YAML.
// A scenario that loads and validates must survive to_yaml: its YAML loads back, validates
// and writes the same text again. Errors must be one line.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/scenario/load.hpp"

using namespace fedactor;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz target: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// An error is one line naming what and where: no newline in it, not empty.
bool refused(const std::optional<scenario_error>& err) {
  if (!err) return false;
  if (err->message.empty() || err->message.find('\n') != std::string::npos)
    fail("an error message that is not one line", err->message);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string yaml;
  std::vector<std::string> sets;
  size_t at = 0;
  while (at <= input.size()) {
    size_t end = input.find('\n', at);
    if (end == std::string::npos) end = input.size();
    std::string line = input.substr(at, end - at);
    if (line.rfind("--set ", 0) == 0)
      sets.push_back(line.substr(6));
    else
      yaml += line + "\n";
    at = end + 1;
  }
  scenario s;
  if (refused(load_scenario_text(yaml, "fuzz.yaml", s))) return 0;
  for (const auto& a : sets)
    if (refused(apply_override(a, s))) return 0;
  if (refused(validate(s))) return 0;
  const std::string text = to_yaml(s);
  scenario back;
  if (refused(load_scenario_text(text, "to_yaml", back)))
    fail("the effective scenario does not load back", text);
  if (refused(validate(back))) fail("the effective scenario loads back invalid", text);
  if (to_yaml(back) != text) fail("the effective scenario loads back different", text);
  return 0;
}
