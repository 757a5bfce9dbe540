#include "runtime/cli/version.hpp"

#ifndef FEDACTOR_VERSION
#error "FEDACTOR_VERSION (the CMake project version) is not defined"
#endif

namespace fedactor {

const char* fedactor_version() {
  return FEDACTOR_VERSION;
}

}  // namespace fedactor
