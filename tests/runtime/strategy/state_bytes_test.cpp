#include "runtime/strategy/state_bytes.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;
using Catch::Matchers::Contains;

namespace {

std::vector<char> sample_state() {
  state_writer w("abc", 2);
  w.put_u64(7);
  const double values[2] = {1.5, -0.25};
  w.put_f64s(values, 2);
  return w.take();
}

}  // namespace

TEST_CASE("state bytes header is magic, version, kind and dim, little-endian", "[strategy]") {
  const std::vector<char> b = state_writer("abc", 258).take();
  // "FASO" | 01 00 00 00 | 03 00 00 00 | "abc" | 258 = 0x0102 as 02 01 00 00 00 00 00 00
  const std::vector<unsigned char> expected = {'F', 'A', 'S', 'O', 1, 0, 0, 0, 3, 0, 0, 0,
                                               'a', 'b', 'c', 2,   1, 0, 0, 0, 0, 0, 0};
  REQUIRE(b.size() == expected.size());
  for (size_t i = 0; i < b.size(); ++i) CHECK(static_cast<unsigned char>(b[i]) == expected[i]);
}

TEST_CASE("state bytes values are little-endian u64 and IEEE binary64 bit patterns", "[strategy]") {
  state_writer w("k", 1);
  w.put_u64(0x0102030405060708ULL);
  w.put_f64(1.0);  // 0x3FF0000000000000
  const std::vector<char> b = w.take();
  REQUIRE(b.size() == 4 + 4 + 4 + 1 + 8 + 16);
  const size_t at = 21;
  const unsigned char u[8] = {8, 7, 6, 5, 4, 3, 2, 1};
  const unsigned char one[8] = {0, 0, 0, 0, 0, 0, 0xF0, 0x3F};
  for (int i = 0; i < 8; ++i) {
    CHECK(static_cast<unsigned char>(b[at + i]) == u[i]);
    CHECK(static_cast<unsigned char>(b[at + 8 + i]) == one[i]);
  }
}

TEST_CASE("state bytes read back what was written", "[strategy]") {
  const std::vector<char> b = sample_state();
  state_reader r(b.data(), b.size(), "abc", 2);
  CHECK(r.get_u64("steps") == 7);
  double values[2] = {0, 0};
  r.get_f64s(values, 2, "values");
  CHECK(values[0] == 1.5);
  CHECK(values[1] == -0.25);
  CHECK(r.remaining() == 0);
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("state bytes reader names a header that is too short or not ours", "[strategy]") {
  const std::vector<char> b = sample_state();
  CHECK_THROWS_WITH(state_reader(b.data(), 5, "abc", 2),
                    "server optimizer state: too short for a header (5 bytes, need at least 12)");
  std::vector<char> bad = b;
  bad[0] = 'X';
  CHECK_THROWS_WITH(state_reader(bad.data(), bad.size(), "abc", 2),
                    "server optimizer state: bad magic (not a server optimizer state)");
  bad = b;
  bad[4] = 2;
  CHECK_THROWS_WITH(state_reader(bad.data(), bad.size(), "abc", 2),
                    "server optimizer state: format version 2, this build reads version 1");
  bad = b;
  bad[9] = 1;  // kind length 259: more than any kind name
  CHECK_THROWS_WITH(state_reader(bad.data(), bad.size(), "abc", 2),
                    Contains("kind name length 259 is not plausible"));
}

TEST_CASE("state bytes reader names another kind and another dim", "[strategy]") {
  const std::vector<char> b = sample_state();
  CHECK_THROWS_WITH(state_reader(b.data(), b.size(), "abd", 2),
                    "server optimizer state: saved by kind 'abc', this optimizer is 'abd'");
  CHECK_THROWS_WITH(state_reader(b.data(), b.size(), "abc", 3),
                    "server optimizer state: saved for dim 2, this optimizer has dim 3");
}

TEST_CASE("state bytes reader names the field a truncated state ends in", "[strategy]") {
  const std::vector<char> b = sample_state();  // 12 + 3 + 8 header, 8 steps, 16 values = 47
  REQUIRE(b.size() == 47);
  CHECK_THROWS_WITH(state_reader(b.data(), 14, "abc", 2),
                    "server optimizer state: truncated: no room for the kind name (3 bytes at "
                    "offset 12, 2 bytes left)");
  CHECK_THROWS_WITH(state_reader(b.data(), 20, "abc", 2),
                    Contains("no room for the dim (8 bytes at offset 15, 5 bytes left)"));
  state_reader r(b.data(), 40, "abc", 2);
  CHECK(r.get_u64("the step count") == 7);
  double values[2];
  CHECK_THROWS_WITH(r.get_f64s(values, 2, "the values"),
                    "server optimizer state: truncated: no room for the values (2 values of 8 "
                    "bytes at offset 31, 9 bytes left)");
  // A count whose byte size overflows size_t is reported the same way, not wrapped around.
  CHECK_THROWS_WITH(r.get_f64s(values, SIZE_MAX / 4, "huge"), Contains("no room for huge"));
}

TEST_CASE("state bytes reader refuses trailing bytes", "[strategy]") {
  std::vector<char> b = sample_state();
  b.push_back(0);
  state_reader r(b.data(), b.size(), "abc", 2);
  r.get_u64("steps");
  double values[2];
  r.get_f64s(values, 2, "values");
  CHECK_THROWS_WITH(r.finish(), "server optimizer state: 1 trailing bytes after the state");
}
