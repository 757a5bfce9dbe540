#pragma once

// Helpers of the client state tests (tests/runtime/state): a temporary directory removed on
// scope exit, and the message of a std::runtime_error a call throws.

#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace fedactor::testing {

struct temp_dir {
  std::filesystem::path path;
  explicit temp_dir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("fedactor_state_" + name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

// The message of the std::runtime_error that `f` throws ("" if none).
template <class F>
std::string runtime_error_of(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace fedactor::testing
