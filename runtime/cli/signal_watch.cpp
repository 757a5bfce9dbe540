#include "runtime/cli/signal_watch.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace fedactor {

namespace {

// The waiting thread, for the forwarding handler (set before the handler is installed).
pthread_t waiter_thread;
volatile sig_atomic_t waiter_set = 0;

// Runs only on a thread that does not block the signals (one started before the watch):
// passes the signal on to the waiting thread. pthread_kill is a tgkill system call.
extern "C" void forward_signal(int sig) {
  const int saved = errno;
  if (waiter_set) pthread_kill(waiter_thread, sig);
  errno = saved;
}

sigset_t watched() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

std::string signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(sig);
}

int exit_code_for(int sig) {
  return 128 + sig;
}

signal_watch::signal_watch(std::function<void(int)> on_first) : on_first_(std::move(on_first)) {
  const sigset_t set = watched();
  if (pthread_sigmask(SIG_BLOCK, &set, &old_mask_) != 0)
    throw std::runtime_error("cannot block SIGINT and SIGTERM");
  waiter_ = std::thread([this] { wait_loop(); });
  waiter_thread = waiter_.native_handle();
  waiter_set = 1;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

signal_watch::~signal_watch() {
  closing_ = true;
  pthread_kill(waiter_.native_handle(), SIGTERM);  // wakes sigwait; taken as "close"
  waiter_.join();
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  waiter_set = 0;
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

void signal_watch::wait_loop() {
  const sigset_t set = watched();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (closing_) return;
    int expected = 0;
    if (first_.compare_exchange_strong(expected, sig)) {
      if (on_first_) on_first_(sig);
      continue;
    }
    std::fprintf(stderr, "fedactor: %s again: exiting at once\n", signal_name(sig).c_str());
    std::fflush(stderr);
    std::_Exit(exit_code_for(sig));
  }
}

}  // namespace fedactor
