// Tests of runtime/cli/signal_watch.*: the first signal reaches the callback on the watch's own
// thread (also when it lands on a thread started before the watch), the mask is restored
// afterwards. The second signal's immediate exit is tested on the executable
// (run_command_test.cpp).

#include "runtime/cli/signal_watch.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

using namespace fedactor;
using namespace std::chrono_literals;

namespace {

bool blocked_here(int sig) {
  sigset_t cur;
  pthread_sigmask(SIG_SETMASK, nullptr, &cur);
  return sigismember(&cur, sig) == 1;
}

}  // namespace

TEST_CASE("signal names and the shell's exit codes", "[cli]") {
  CHECK(signal_name(SIGINT) == "SIGINT");
  CHECK(signal_name(SIGTERM) == "SIGTERM");
  CHECK(signal_name(SIGHUP) == "signal " + std::to_string(SIGHUP));
  CHECK(exit_code_for(SIGINT) == 130);
  CHECK(exit_code_for(SIGTERM) == 143);
}

TEST_CASE("signal_watch hands the first signal to its callback on its own thread", "[cli]") {
  REQUIRE_FALSE(blocked_here(SIGTERM));
  std::promise<int> got;
  auto answer = got.get_future();
  std::thread::id on;
  {
    signal_watch w{[&](int sig) {
      on = std::this_thread::get_id();
      got.set_value(sig);
    }};
    CHECK(blocked_here(SIGINT));
    CHECK(blocked_here(SIGTERM));
    CHECK(w.first() == 0);
    kill(getpid(), SIGTERM);
    REQUIRE(answer.wait_for(60s) == std::future_status::ready);
    CHECK(answer.get() == SIGTERM);
    CHECK(w.first() == SIGTERM);
    CHECK(on != std::this_thread::get_id());
  }
  // The calling thread's mask is back.
  CHECK_FALSE(blocked_here(SIGINT));
  CHECK_FALSE(blocked_here(SIGTERM));
}

TEST_CASE("signal_watch takes a signal that lands on a thread started before it", "[cli]") {
  // A thread with SIGINT unblocked, waiting until the test is done with it.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread early([&] {
    std::unique_lock<std::mutex> lock{mu};
    cv.wait(lock, [&] { return done; });
  });
  std::promise<int> got;
  auto answer = got.get_future();
  {
    signal_watch w{[&](int sig) { got.set_value(sig); }};
    // Directed at the early thread: its handler passes it on to the watch's thread.
    pthread_kill(early.native_handle(), SIGINT);
    REQUIRE(answer.wait_for(60s) == std::future_status::ready);
    CHECK(answer.get() == SIGINT);
    CHECK(w.first() == SIGINT);
  }
  {
    std::lock_guard<std::mutex> lock{mu};
    done = true;
  }
  cv.notify_all();
  early.join();
}
