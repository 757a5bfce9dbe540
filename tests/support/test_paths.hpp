#pragma once

// Where the tests find the source tree and the `fedactor` executable. The build passes both
// relative to the test executable's directory (tests/support/test_paths.cpp), never as absolute
// paths, so that no compile command names the checkout's location and ccache serves a build in
// any clone (the Makefile sets CCACHE_BASEDIR); here they are made absolute from
// /proc/self/exe.
//
// FEDACTOR_SOURCE_DIR and FEDACTOR_BINARY are std::string expressions: join them with `+`.

#include <string>

namespace fedactor::testing {

// The source tree's root (absolute, no trailing slash).
const std::string& source_dir();
// The fedactor executable built beside the tests (absolute).
const std::string& fedactor_binary();

}  // namespace fedactor::testing

#define FEDACTOR_SOURCE_DIR (::fedactor::testing::source_dir())
#define FEDACTOR_BINARY (::fedactor::testing::fedactor_binary())
