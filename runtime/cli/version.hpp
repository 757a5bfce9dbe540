#pragma once

// fedactor's version: the project version of CMakeLists.txt (project(fedactor VERSION ...)),
// compiled in as FEDACTOR_VERSION. `fedactor --version` and `fedactor version` print it.

namespace fedactor {

const char* fedactor_version();

}  // namespace fedactor
