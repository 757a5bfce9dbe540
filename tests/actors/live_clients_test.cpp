#include "actors/live_clients.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

// Distinct client handles; they never receive anything.
std::vector<client_actor> handles(caf::actor_system& sys, size_t n) {
  std::vector<client_actor> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(sys.spawn([]() -> client_actor::behavior_type {
      return {[](train_ins&) -> caf::result<train_res> { return train_res{}; }};
    }));
  return out;
}

}  // namespace

TEST_CASE("live clients: a full set evicts the least recently used idle client", "[actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto h = handles(sys, 4);
  live_clients set{2};
  CHECK_FALSE(set.checkout(1));
  CHECK_FALSE(set.evict_for_room());  // empty
  set.add_busy(1, h[0]);
  set.add_busy(2, h[1]);
  CHECK_FALSE(set.evict_for_room());  // full, but nobody is idle
  set.release(2);                     // idle order (most recent first): 2
  set.release(1);                     // 1, 2
  CHECK(set.idle() == 2);
  auto reused = set.checkout(2);  // 1
  REQUIRE(reused);
  CHECK(*reused == h[1]);
  set.release(2);  // 2, 1
  auto victim = set.evict_for_room();
  REQUIRE(victim);
  CHECK(*victim == h[0]);  // 1 was used least recently
  CHECK(set.size() == 1);
  CHECK_FALSE(set.checkout(1));
  set.add_busy(3, h[2]);
  CHECK(set.evictions() == 1);
  CHECK(set.peak() == 2);
  for (auto& a : h) caf::anon_send_exit(a, caf::exit_reason::kill);
}

TEST_CASE("live clients: a client with two tasks stays busy until both end", "[actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto h = handles(sys, 2);
  live_clients set{1};
  set.add_busy(7, h[0]);
  REQUIRE(set.checkout(7));  // a second task for the same client
  set.release(7);
  CHECK(set.idle() == 0);
  CHECK_FALSE(set.evict_for_room());
  set.release(7);
  CHECK(set.idle() == 1);
  set.release(7);  // one release too many is ignored
  CHECK(set.idle() == 1);
  auto victim = set.evict_for_room();
  REQUIRE(victim);
  CHECK(*victim == h[0]);
  CHECK(set.size() == 0);
  CHECK(set.idle() == 0);
  for (auto& a : h) caf::anon_send_exit(a, caf::exit_reason::kill);
}

TEST_CASE("live clients: an exited actor is forgotten, busy or idle", "[actors]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto h = handles(sys, 3);
  live_clients set{0};  // capacity 0 means 1
  CHECK(set.capacity() == 1);
  set.add_busy(1, h[0]);
  set.add_busy(2, h[1]);  // every client busy: the set grows past its capacity
  CHECK(set.size() == 2);
  set.release(2);
  CHECK(set.forget(h[1].address()));  // idle
  CHECK(set.forget(h[0].address()));  // busy
  CHECK_FALSE(set.forget(h[2].address()));
  CHECK(set.size() == 0);
  CHECK(set.idle() == 0);
  set.release(1);  // a late answer of a forgotten client is ignored
  CHECK(set.idle() == 0);
  CHECK(set.peak() == 2);
  CHECK(set.evictions() == 0);
  for (auto& a : h) caf::anon_send_exit(a, caf::exit_reason::kill);
}
