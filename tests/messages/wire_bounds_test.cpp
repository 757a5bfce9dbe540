// Tests of messages/wire_bounds.*: a byte field is written exactly as CAF writes a byte vector;
// a length prefix larger than the bytes left fails the read before anything is allocated (the
// byte fields of edge_res and async_res, and param_blob's values, read through it).

#include "messages/wire_bounds.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/param_blob.hpp"
#include "runtime/host/system_config.hpp"

using namespace fedactor;

namespace {

// CAF 0.17's length prefix: 7 bits a byte, low bits first, the high bit set on all but the
// last.
std::vector<char> varbyte(uint64_t n) {
  std::vector<char> out;
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (n);
  return out;
}

struct codec {
  system_config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  std::vector<char> save(T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE_FALSE(sink(x));
    return buf;
  }
  template <class T>
  caf::error load(const std::vector<char>& buf, T& x) {
    caf::binary_deserializer source{sys, buf};
    return source(x);
  }
};

}  // namespace

TEST_CASE("a byte field is written as CAF writes a byte vector, and read back", "[messages]") {
  codec c;
  std::vector<char> data = {'a', 'b', '\0', 'c'};
  auto field = bounded(data);
  auto plain = data;
  CHECK(c.save(field) == c.save(plain));
  std::vector<char> back;
  auto into = bounded(back);
  REQUIRE_FALSE(c.load(c.save(field), into));
  CHECK(back == data);
}

TEST_CASE("a length prefix larger than the bytes left fails before any allocation", "[messages]") {
  codec c;
  // A byte field declaring 2^31 bytes, followed by 4.
  auto buf = varbyte(uint64_t{1} << 31);
  buf.insert(buf.end(), {'1', '2', '3', '4'});
  std::vector<char> out;
  auto field = bounded(out);
  CHECK(c.load(buf, field));
  CHECK(out.capacity() == 0);
  // Exactly the bytes left is fine.
  auto exact = varbyte(4);
  exact.insert(exact.end(), {'1', '2', '3', '4'});
  REQUIRE_FALSE(c.load(exact, field));
  CHECK(out == std::vector<char>{'1', '2', '3', '4'});
  // param_blob: 2^40 values declared, 8 bytes present.
  auto floats = varbyte(uint64_t{1} << 40);
  floats.resize(floats.size() + 8, 0);
  param_blob p;
  CHECK(c.load(floats, p));
  CHECK(p.empty());
  // 3 values declared, 2 present: refused as well.
  auto short_floats = varbyte(3);
  short_floats.resize(short_floats.size() + 8, 0);
  CHECK(c.load(short_floats, p));
}

TEST_CASE("edge_res and async_res whose aggregate declares more bytes than sent are refused",
          "[messages]") {
  codec c;
  edge_res r;
  r.round = 3;
  r.aggregate = {1, 2, 3};
  auto buf = c.save(r);
  // round (4 bytes), edge (4 bytes), then the aggregate's prefix (one byte: 3).
  REQUIRE(buf.at(8) == 3);
  const auto huge = varbyte(uint64_t{1} << 32);
  buf.erase(buf.begin() + 8);
  buf.insert(buf.begin() + 8, huge.begin(), huge.end());
  edge_res back;
  CHECK(c.load(buf, back));
  CHECK(back.aggregate.capacity() == 0);

  async_res a;
  a.seq = 1;
  a.client = 2;
  a.outcome = async_group{{9, 9}, {1}, 0};
  auto abuf = c.save(a);
  // seq (8), client (4), tag (1), then the aggregate's prefix (2).
  REQUIRE(abuf.at(13) == 2);
  abuf.erase(abuf.begin() + 13);
  abuf.insert(abuf.begin() + 13, huge.begin(), huge.end());
  async_res aback;
  CHECK(c.load(abuf, aback));
}
