// fedactor's version (runtime/cli/version.cpp) is the project version of CMakeLists.txt.

#include "runtime/cli/version.hpp"

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include "tests/support/test_paths.hpp"

TEST_CASE("fedactor_version is the version of project() in CMakeLists.txt", "[cli]") {
  std::ifstream in(FEDACTOR_SOURCE_DIR + "/CMakeLists.txt");
  std::stringstream text;
  text << in.rdbuf();
  const std::string cmake = text.str();
  std::smatch m;
  REQUIRE(std::regex_search(cmake, m, std::regex{R"(project\(fedactor VERSION ([0-9.]+))"}));
  CHECK(fedactor::fedactor_version() == m[1].str());
}
