#include "tests/support/test_paths.hpp"

#include <filesystem>
#include <system_error>

#ifndef FEDACTOR_SOURCE_FROM_TESTS
#error "the build defines FEDACTOR_SOURCE_FROM_TESTS (the source dir from the test binary's)"
#endif
#ifndef FEDACTOR_BINARY_FROM_TESTS
#error "the build defines FEDACTOR_BINARY_FROM_TESTS (fedactor from the test binary's dir)"
#endif

namespace fedactor::testing {

namespace {

std::filesystem::path tests_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

std::string from_tests_dir(const char* relative) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(tests_dir() / relative, ec);
  if (ec) p = (tests_dir() / relative).lexically_normal();
  auto s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

const std::string& source_dir() {
  static const std::string dir = from_tests_dir(FEDACTOR_SOURCE_FROM_TESTS);
  return dir;
}

const std::string& fedactor_binary() {
  static const std::string bin = from_tests_dir(FEDACTOR_BINARY_FROM_TESTS);
  return bin;
}

}  // namespace fedactor::testing
