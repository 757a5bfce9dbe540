// The `fedactor` executable: dispatches to a subcommand (runtime/cli/commands.hpp), after the
// leading option `--strict` (or FEDACTOR_REPRODUCIBILITY=strict) has pinned the math
// libraries' kernels (runtime/cli/strict_reproducibility.hpp; it may re-execute the process).

#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/commands.hpp"
#include "runtime/cli/strict_reproducibility.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (const auto code = fedactor::enter_reproducibility_mode(argv, args, std::cerr)) return *code;
  return fedactor::fedactor_main(args, std::cout, std::cerr);
}
