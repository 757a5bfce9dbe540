#pragma once

// Test helpers for the `fedactor` commands: fedactor_cli runs the built binary
// (FEDACTOR_BINARY) to its end in the source dir and returns its exit code, stdout and stderr,
// bounded by `timeout` (coreutils; exit 124 when it fires); in_process calls a command
// function (int f(args, out, err)) with string streams. For a process to talk to while it
// runs, see tests/runtime/cli/node_process.hpp.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include "tests/support/test_paths.hpp"

namespace fedactor::testing {

struct cli_result {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string all() const { return out + err; }
};

// `args` is appended to the command line as it is: quote paths with spaces ('...').
inline cli_result fedactor_cli(const std::string& args, int timeout_s = 300) {
  static std::atomic<int> calls{0};
  const std::string err_file = "/tmp/fedactor_cli_test_" + std::to_string(::getpid()) + "_" +
                               std::to_string(calls++) + ".err";
  const std::string cmd = "cd '" + FEDACTOR_SOURCE_DIR + "' && timeout " +
                          std::to_string(timeout_s) + " '" + FEDACTOR_BINARY + "' " + args +
                          " 2>'" + err_file + "'";
  cli_result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = std::fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf, 1, sizeof(buf), e)) > 0) r.err.append(buf, n);
    std::fclose(e);
  }
  std::remove(err_file.c_str());
  return r;
}

// `command(args, out, err)` in this process (its --help and argument errors are in the result).
template <class Command>
cli_result in_process(Command&& command, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  cli_result r;
  r.code = command(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace fedactor::testing
