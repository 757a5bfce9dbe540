#pragma once

// A subprocess of `fedactor bench --nodes` (runtime/cli/bench_nodes.hpp): this executable run
// with some arguments, its stderr appended to a log file, its stdout readable line by line
// with a deadline. Killed (SIGKILL) and reaped on destruction if still running.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

class child_process {
 public:
  // Starts `binary args...`; throws std::runtime_error when it cannot.
  child_process(const std::string& binary, const std::vector<std::string>& args,
                const std::string& stderr_log);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line of its stdout (without '\n'); nullopt at the deadline or its end.
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline);
  // Waits for it to exit until the deadline: its exit code (128 + signal when killed by one),
  // nullopt when it still runs. Reads (and drops) its stdout meanwhile so it never blocks.
  std::optional<int> wait_until(std::chrono::steady_clock::time_point deadline);
  void kill();  // SIGKILL and reap (no-op once it exited)
  pid_t pid() const { return pid_; }

 private:
  bool reap(bool block);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;  // stdout read but not yet returned
  std::optional<int> exit_code_;
};

}  // namespace fedactor
