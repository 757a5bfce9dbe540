#pragma once

// Test helper: a `fedactor` child process (FEDACTOR_BINARY) whose stdout and stderr are
// collected by a reader thread. Waiting for a line or for the exit is bounded; the
// destructor kills the child (SIGKILL, also when stopped) and reaps it, so a failing test
// leaves nothing behind. Children also die with the test process (PR_SET_PDEATHSIG).

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include "tests/support/test_paths.hpp"

namespace fedactor::testing {

class node_process {
 public:
  explicit node_process(std::vector<std::string> args) {
    args.insert(args.begin(), FEDACTOR_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) std::abort();
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      dup2(fds[1], STDERR_FILENO);
      close(fds[0]);
      close(fds[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
    reader_ = std::thread([this] { read_all(); });
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  ~node_process() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (reader_.joinable()) reader_.join();
    close(fd_);
  }

  pid_t pid() const { return pid_; }

  void signal(int sig) { kill(pid_, sig); }

  // The first output line containing `text` (after position `from` of the output), or
  // nullopt when none appeared within `timeout` (or the output ended without one).
  std::optional<std::string> wait_for(const std::string& text, std::chrono::milliseconds timeout,
                                      size_t from = 0) {
    std::unique_lock<std::mutex> guard{mu_};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto pos = out_.find(text, from);
      if (pos != std::string::npos) {
        auto start = out_.rfind('\n', pos);
        start = start == std::string::npos ? 0 : start + 1;
        auto end = out_.find('\n', pos);
        return out_.substr(start, end == std::string::npos ? std::string::npos : end - start);
      }
      if (eof_) return std::nullopt;
      if (cv_.wait_until(guard, deadline) == std::cv_status::timeout &&
          out_.find(text, from) == std::string::npos)
        return std::nullopt;
    }
  }

  // The port of the "listening on HOST:PORT" line; 0 if none within `timeout`.
  uint16_t port(std::chrono::milliseconds timeout) {
    auto line = wait_for("listening on ", timeout);
    if (!line) return 0;
    auto colon = line->rfind(':');
    return colon == std::string::npos ? 0
                                      : static_cast<uint16_t>(std::atoi(line->c_str() + colon + 1));
  }

  // The exit code (128 + signal when killed), or nullopt when still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (exited_) return code_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::string output() const {
    std::lock_guard<std::mutex> guard{mu_};
    return out_;
  }

  size_t output_size() const {
    std::lock_guard<std::mutex> guard{mu_};
    return out_.size();
  }

 private:
  void read_all() {
    char buf[4096];
    for (;;) {
      auto n = read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard<std::mutex> guard{mu_};
      out_.append(buf, static_cast<size_t>(n));
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> guard{mu_};
    eof_ = true;
    cv_.notify_all();
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;
  bool eof_ = false;
  bool exited_ = false;
  int code_ = -1;
};

}  // namespace fedactor::testing
