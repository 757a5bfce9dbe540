#include "runtime/timing/release_queue.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using fedactor::release_queue;

namespace {

// Pops everything ready; returns the seqs in release order.
template <class P>
std::vector<uint64_t> drain(release_queue<P>& q) {
  std::vector<uint64_t> out;
  while (auto it = q.pop_ready()) out.push_back(it->seq);
  return out;
}

}  // namespace

TEST_CASE("release queue lets a fast task dispatched late overtake a slow one dispatched early",
          "[timing]") {
  release_queue<std::string> q;
  REQUIRE(q.dispatch(0, 10.0));  // slow client, dispatched first
  REQUIRE(q.dispatch(1, 3.0));   // fast client, dispatched second
  CHECK(q.in_flight() == 2);
  CHECK(q.next_finish() == 3.0);
  // The slow one's result happens to arrive first in real time: it is held back.
  REQUIRE(q.arrive(0, "slow"));
  CHECK_FALSE(q.pop_ready());
  CHECK(q.held() == 1);
  CHECK(q.running() == 1);
  REQUIRE(q.arrive(1, "fast"));
  auto first = q.pop_ready();
  REQUIRE(first);
  CHECK(first->seq == 1);
  CHECK(first->finish == 3.0);
  CHECK(first->payload == std::string("fast"));
  auto second = q.pop_ready();
  REQUIRE(second);
  CHECK(second->seq == 0);
  CHECK(second->finish == 10.0);
  CHECK(second->payload == std::string("slow"));
  CHECK_FALSE(q.pop_ready());
  CHECK(q.empty());
  CHECK_FALSE(q.next_finish());
}

TEST_CASE("release queue order is independent of the real arrival permutation", "[timing]") {
  // seq: finish
  const std::vector<std::pair<uint64_t, double>> tasks = {{0, 5.0}, {1, 1.5}, {2, 7.25},
                                                          {3, 1.5}, {4, 0.5}, {5, 6.0}};
  const std::vector<uint64_t> expected = {4, 1, 3, 0, 5, 2};  // by (finish, seq)
  std::vector<size_t> arrival = {0, 1, 2, 3, 4, 5};
  size_t permutations = 0;
  do {
    release_queue<int> q;
    for (const auto& [seq, finish] : tasks) REQUIRE(q.dispatch(seq, finish));
    std::vector<uint64_t> released;
    std::vector<int> payloads;
    for (auto i : arrival) {
      REQUIRE(q.arrive(tasks[i].first, static_cast<int>(tasks[i].first) * 10));
      while (auto it = q.pop_ready()) {
        released.push_back(it->seq);
        REQUIRE(it->payload);
        payloads.push_back(*it->payload);
      }
    }
    CHECK(released == expected);
    CHECK(payloads == std::vector<int>{40, 10, 30, 0, 50, 20});
    CHECK(q.empty());
    ++permutations;
  } while (std::next_permutation(arrival.begin(), arrival.end()));
  CHECK(permutations == 720);
}

TEST_CASE("release queue releases a cancelled task in its place without a payload", "[timing]") {
  release_queue<int> q;
  q.dispatch(0, 1.0);
  q.dispatch(1, 2.0);
  q.dispatch(2, 3.0);
  REQUIRE(q.arrive(2, 22));
  REQUIRE(q.arrive(0, 20));
  REQUIRE(q.cancel(1));
  CHECK_FALSE(q.cancel(1));      // already failed
  CHECK_FALSE(q.arrive(1, 21));  // a result after the failure is dropped
  CHECK_FALSE(q.cancel(2));      // already arrived
  auto a = q.pop_ready();
  auto b = q.pop_ready();
  auto c = q.pop_ready();
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->seq == 0);
  CHECK(a->payload == 20);
  CHECK(b->seq == 1);
  CHECK(b->finish == 2.0);
  CHECK_FALSE(b->payload);
  CHECK(c->seq == 2);
  CHECK(c->payload == 22);
  CHECK_FALSE(q.pop_ready());
}

TEST_CASE("release queue breaks finish-time ties by the smaller seq", "[timing]") {
  release_queue<int> q;
  q.dispatch(5, 2.0);
  q.dispatch(2, 2.0);
  q.dispatch(9, 2.0);
  q.arrive(9, 0);
  q.arrive(5, 0);
  CHECK(drain(q).empty());  // seq 2 still running
  q.arrive(2, 0);
  CHECK(drain(q) == std::vector<uint64_t>{2, 5, 9});
}

TEST_CASE("release queue refuses duplicate or unknown seqs and NaN finish times", "[timing]") {
  release_queue<int> q;
  CHECK(q.dispatch(1, 1.0));
  CHECK_FALSE(q.dispatch(1, 2.0));
  CHECK_FALSE(q.dispatch(2, std::nan("")));
  CHECK_FALSE(q.arrive(7, 0));
  CHECK_FALSE(q.cancel(7));
  CHECK(q.in_flight() == 1);
  CHECK(q.arrive(1, 3));
  CHECK_FALSE(q.arrive(1, 4));  // twice
  REQUIRE(q.pop_ready());
  CHECK_FALSE(q.arrive(1, 5));  // already released
  CHECK(q.dispatch(1, 9.0));    // a released seq may be reused
  CHECK(q.next_finish() == 9.0);
}

TEST_CASE("release queue keeps releasing in finish order as tasks are dispatched on release",
          "[timing]") {
  // Simulated clock: each release frees a slot, refilled at now = the released finish.
  release_queue<int> q;
  q.dispatch(0, 4.0);
  q.dispatch(1, 1.0);
  q.arrive(0, 0);
  q.arrive(1, 0);
  auto first = q.pop_ready();
  REQUIRE(first);
  CHECK(first->seq == 1);
  const double now = first->finish;  // 1.0
  q.dispatch(2, now + 2.0);          // finishes at 3.0, before task 0
  CHECK(q.next_finish() == 3.0);
  CHECK_FALSE(q.pop_ready());  // task 0 has arrived but task 2 may still finish earlier
  q.arrive(2, 0);
  CHECK(drain(q) == std::vector<uint64_t>{2, 0});
}

TEST_CASE("release queue carries move-only payloads", "[timing]") {
  release_queue<std::unique_ptr<int>> q;
  q.dispatch(0, 1.0);
  q.arrive(0, std::make_unique<int>(42));
  auto it = q.pop_ready();
  REQUIRE(it);
  REQUIRE(it->payload);
  REQUIRE(*it->payload);
  CHECK(**it->payload == 42);
}
