// The `fedactor` executable: dispatches to a subcommand (runtime/cli/commands.hpp).

#include <iostream>
#include <string>
#include <vector>

#include "runtime/cli/commands.hpp"

int main(int argc, char** argv) {
  return fedactor::fedactor_main(std::vector<std::string>(argv + 1, argv + argc), std::cout,
                                 std::cerr);
}
