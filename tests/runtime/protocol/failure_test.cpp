// Tests of runtime/protocol/failure.*: failure codes by name, counts per code, wire form.

#include "runtime/protocol/failure.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("failure codes have their documented names and read back from them", "[protocol]") {
  CHECK(std::string(to_string(failure_code::timeout)) == "timeout");
  CHECK(std::string(to_string(failure_code::edge_lost)) == "edge_lost");
  CHECK(std::string(to_string(failure_code::invalid_update)) == "invalid_update");
  CHECK(std::string(to_string(failure_code::stale)) == "stale");
  CHECK(std::string(to_string(failure_code::client_error)) == "client_error");
  CHECK(std::string(to_string(failure_code::unavailable)) == "unavailable");
  CHECK(std::string(to_string(static_cast<failure_code>(failure_code_count))) == "?");
  for (size_t i = 0; i < failure_code_count; ++i) {
    const auto c = static_cast<failure_code>(i);
    CAPTURE(i);
    CHECK(failure_code_from(to_string(c)) == c);
  }
}

TEST_CASE("failure_code_from refuses any other text", "[protocol]") {
  CHECK_FALSE(failure_code_from(""));
  CHECK_FALSE(failure_code_from("?"));
  CHECK_FALSE(failure_code_from("Timeout"));
  CHECK_FALSE(failure_code_from("timeout "));
  CHECK_FALSE(failure_code_from("lost"));
}

TEST_CASE("failure counts add per code and total every code but stale", "[protocol]") {
  failure_counts f;
  CHECK(f.total() == 0);
  f.add(failure_code::timeout);
  f.add(failure_code::edge_lost, 3);
  f.add(failure_code::stale, 5);
  f.add(failure_code::client_error, 2);
  CHECK(f.of(failure_code::timeout) == 1);
  CHECK(f.of(failure_code::edge_lost) == 3);
  CHECK(f.of(failure_code::invalid_update) == 0);
  CHECK(f.of(failure_code::stale) == 5);
  CHECK(f.of(failure_code::client_error) == 2);
  // 1 + 3 + 0 + 2; the 5 stale updates are discarded by design, not failures.
  CHECK(f.total() == 6);
  f.clear();
  CHECK(f == failure_counts{});
  CHECK(f.total() == 0);
}

TEST_CASE("failure counts merge code by code", "[protocol]") {
  failure_counts a;
  a.add(failure_code::timeout, 2);
  a.add(failure_code::stale, 1);
  failure_counts b;
  b.add(failure_code::timeout, 3);
  b.add(failure_code::invalid_update, 4);
  a.merge(b);
  // timeout 2 + 3, invalid_update 0 + 4, stale 1 + 0.
  CHECK(a.of(failure_code::timeout) == 5);
  CHECK(a.of(failure_code::invalid_update) == 4);
  CHECK(a.of(failure_code::stale) == 1);
  CHECK(a.of(failure_code::edge_lost) == 0);
  CHECK(a.total() == 9);
  CHECK(b.of(failure_code::timeout) == 3);  // the other side is unchanged
}

TEST_CASE("failure counts go over the wire as one count per code, in code order", "[protocol]") {
  failure_counts f;
  f.add(failure_code::edge_lost, 7);
  f.add(failure_code::client_error, 1);
  const auto wire = f.to_wire();
  CHECK(wire == std::vector<uint32_t>{0, 7, 0, 0, 1, 0});
  auto back = failure_counts::from_wire(wire);
  REQUIRE(back);
  CHECK(*back == f);
}

TEST_CASE(
    "failure counts from a longer wire vector are refused, a shorter one counts the rest as 0",
    "[protocol]") {
  // A peer that knows a seventh code: refused.
  CHECK_FALSE(failure_counts::from_wire({1, 2, 3, 4, 5, 6, 7}));
  // An older peer that knows two codes: timeout 4, edge_lost 2, the others 0.
  auto older = failure_counts::from_wire({4, 2});
  REQUIRE(older);
  CHECK(older->of(failure_code::timeout) == 4);
  CHECK(older->of(failure_code::edge_lost) == 2);
  CHECK(older->of(failure_code::invalid_update) == 0);
  CHECK(older->of(failure_code::stale) == 0);
  CHECK(older->of(failure_code::client_error) == 0);
  auto none = failure_counts::from_wire({});
  REQUIRE(none);
  CHECK(*none == failure_counts{});
}
