#pragma once

// SIGINT and SIGTERM for the fedactor executable, with no work in a signal handler: the
// signals are blocked and a thread of this object waits for them (sigwait). The first one
// calls back on that thread (the commands ask for a clean stop); a second one ends the
// process at once.

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include <signal.h>

namespace fedactor {

class signal_watch {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread and waits for them on a thread of its
  // own. Construct it before the actor system (and anything else that starts threads): the
  // threads started after inherit the mask. A signal that still lands on a thread started
  // before is handed to the waiting thread by a handler that does nothing else. The first
  // signal calls on_first(its number) on the waiting thread; any later one ends the process
  // at once with exit_code_for(it) (std::_Exit: nothing more is written). One at a time.
  explicit signal_watch(std::function<void(int sig)> on_first);
  // Stops the waiting thread, restores the handlers and the calling thread's mask.
  ~signal_watch();
  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;

  // 0 until a signal came, then the first one's number.
  int first() const { return first_.load(); }

 private:
  void wait_loop();

  std::function<void(int)> on_first_;
  std::atomic<int> first_{0};
  std::atomic<bool> closing_{false};
  sigset_t old_mask_;
  struct sigaction old_int_;
  struct sigaction old_term_;
  std::thread waiter_;
};

// "SIGINT", "SIGTERM", else "signal N".
std::string signal_name(int sig);

// The exit code of a process ended by `sig` the shell's way: 128 + sig (SIGINT 130,
// SIGTERM 143).
int exit_code_for(int sig);

}  // namespace fedactor
