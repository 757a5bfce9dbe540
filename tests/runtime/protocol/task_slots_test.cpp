// Tests of runtime/protocol/task_slots.hpp: a FIFO of jobs with a bounded number in flight.

#include "runtime/protocol/task_slots.hpp"

#include <string>

#include <catch2/catch.hpp>

using fedactor::task_slots;

TEST_CASE("task_slots hands out jobs in order, at most capacity at a time", "[protocol]") {
  task_slots<int> s(2);
  for (int j = 1; j <= 4; ++j) s.push(j);
  CHECK(s.queued() == 4);
  CHECK(s.next() == 1);
  CHECK(s.next() == 2);
  CHECK_FALSE(s.next());  // both slots taken
  CHECK(s.in_flight() == 2);
  CHECK(s.queued() == 2);
  s.done();
  CHECK(s.next() == 3);
  CHECK_FALSE(s.next());
  s.done();
  s.done();
  CHECK(s.next() == 4);
  CHECK_FALSE(s.next());  // queue empty
  CHECK(s.in_flight() == 1);
  CHECK(s.queued() == 0);
}

TEST_CASE("task_slots capacity 0 means 1", "[protocol]") {
  task_slots<std::string> s(0);
  s.push("a");
  s.push("b");
  CHECK(s.next() == std::string("a"));
  CHECK_FALSE(s.next());
  s.set_capacity(0);
  CHECK_FALSE(s.next());
}

TEST_CASE("task_slots raised capacity lets queued jobs start", "[protocol]") {
  task_slots<int> s;  // capacity 1
  s.push(1);
  s.push(2);
  s.push(3);
  CHECK(s.next() == 1);
  CHECK_FALSE(s.next());
  s.set_capacity(3);
  CHECK(s.next() == 2);
  CHECK(s.next() == 3);
  CHECK(s.in_flight() == 3);
}

TEST_CASE("task_slots done() with nothing in flight changes nothing", "[protocol]") {
  task_slots<int> s(1);
  s.done();
  CHECK(s.in_flight() == 0);
  s.push(1);
  CHECK(s.next() == 1);
  CHECK(s.in_flight() == 1);
}
