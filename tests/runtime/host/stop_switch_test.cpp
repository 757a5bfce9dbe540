// Tests of runtime/host/stop_switch.*: first request wins, armed actions, requests before
// arming, guards, reset.

#include "runtime/host/stop_switch.hpp"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("stop_switch keeps the first request and runs the armed action once", "[host]") {
  stop_switch sw;
  std::vector<std::string> ran;
  CHECK_FALSE(sw.requested());
  CHECK(sw.reason().empty());
  auto g = sw.arm([&](const std::string& r) { ran.push_back(r); });
  CHECK(sw.request("SIGINT"));
  CHECK_FALSE(sw.request("SIGTERM"));
  CHECK(sw.requested());
  CHECK(sw.reason() == "SIGINT");
  CHECK(ran == std::vector<std::string>{"SIGINT"});
}

TEST_CASE("stop_switch carries out a request made before arming as soon as it is armed", "[host]") {
  stop_switch sw;
  CHECK_FALSE(sw.request("SIGTERM"));  // nothing armed: kept
  std::vector<std::string> ran;
  auto g = sw.arm([&](const std::string& r) { ran.push_back(r); });
  CHECK(ran == std::vector<std::string>{"SIGTERM"});
}

TEST_CASE("stop_switch runs nothing once the guard is released", "[host]") {
  stop_switch sw;
  int ran = 0;
  {
    auto g = sw.arm([&](const std::string&) { ++ran; });
  }
  CHECK_FALSE(sw.request("SIGINT"));
  CHECK(ran == 0);
  // A second guard after a released first one: the request already made runs it.
  auto g2 = sw.arm([&](const std::string&) { ++ran; });
  CHECK(ran == 1);
  g2.release();
  g2.release();  // twice: harmless
}

TEST_CASE("stop_switch reset forgets the request", "[host]") {
  stop_switch sw;
  sw.request("stop");
  sw.reset();
  CHECK_FALSE(sw.requested());
  CHECK(sw.reason().empty());
  int ran = 0;
  auto g = sw.arm([&](const std::string&) { ++ran; });
  CHECK(ran == 0);
  CHECK(sw.request("SIGINT"));
  CHECK(ran == 1);
}

TEST_CASE("stop_switch takes exactly one of many concurrent requests", "[host]") {
  stop_switch sw;
  std::atomic<int> ran{0};
  auto g = sw.arm([&](const std::string&) { ++ran; });
  std::atomic<int> acted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      if (sw.request("t" + std::to_string(i))) ++acted;
    });
  for (auto& t : threads) t.join();
  CHECK(ran == 1);
  CHECK(acted == 1);
  CHECK(sw.reason().size() == 2);
}
