#pragma once

// `fedactor run SCENARIO.yaml [--set key=value]... [--out DIR] [--quiet]`

#include <string>
#include <vector>

namespace fedactor {

// Exit codes: 0 done, 2 bad scenario or arguments, 1 the run failed.
int run_command(const std::vector<std::string>& args);

}  // namespace fedactor
