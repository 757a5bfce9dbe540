// Tests of messages/wire_rejects.*: each refusal of fedactor's deserializers counts once under
// its reason (a bad buffer per reason, read as a node reads a message from another process),
// a well-formed message counts nothing, and the node's end-of-run line lists the counts.

#include "messages/wire_rejects.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/param_blob.hpp"

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

template <class T>
std::vector<char> save(T& x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(x));
  return buf;
}

template <class T>
caf::error load(const std::vector<char>& buf, T& x) {
  caf::binary_deserializer source{nullptr, buf};
  return source(x);
}

// The counts after minus the counts before, per reason.
struct delta {
  std::array<uint64_t, wire_reject_count> before = wire_reject_counts();
  uint64_t of(wire_reject r) const { return wire_rejects(r) - before[static_cast<size_t>(r)]; }
};

}  // namespace

TEST_CASE("a param_blob declaring more floats than the bytes left counts as param_count",
          "[messages]") {
  // 3 floats declared, 2 floats' bytes follow.
  auto buf = varbyte(3);
  buf.resize(buf.size() + 2 * sizeof(float), 0);
  delta d;
  param_blob p;
  REQUIRE(load(buf, p));
  CHECK(d.of(wire_reject::param_count) == 1);
  CHECK(d.of(wire_reject::byte_field_length) == 0);
  CHECK(d.of(wire_reject::outcome_tag) == 0);
}

TEST_CASE(
    "an edge_res aggregate declaring more bytes than the bytes left counts as "
    "byte_field_length",
    "[messages]") {
  edge_res r;
  r.round = 4;
  r.edge = 1;
  r.aggregate.assign(10, 'a');
  auto buf = save(r);
  // round and edge take 4 bytes each; the aggregate's length prefix (10, one byte) follows.
  REQUIRE(buf[8] == 10);
  auto big = varbyte(1000);
  buf.erase(buf.begin() + 8);
  buf.insert(buf.begin() + 8, big.begin(), big.end());
  delta d;
  edge_res back;
  REQUIRE(load(buf, back));
  CHECK(d.of(wire_reject::byte_field_length) == 1);
  CHECK(d.of(wire_reject::param_count) == 0);
  CHECK(d.of(wire_reject::outcome_tag) == 0);
}

TEST_CASE("an async_res with an unknown outcome tag counts as outcome_tag", "[messages]") {
  async_res r;
  r.seq = 9;
  r.client = 3;
  r.outcome = async_held{};
  auto buf = save(r);
  // seq (8 bytes), client (4), then the tag: 1 (held) becomes 7.
  REQUIRE(buf.size() == 13);
  REQUIRE(buf[12] == 1);
  buf[12] = 7;
  delta d;
  async_res back;
  REQUIRE(load(buf, back));
  CHECK(d.of(wire_reject::outcome_tag) == 1);
  CHECK(d.of(wire_reject::param_count) == 0);
  CHECK(d.of(wire_reject::byte_field_length) == 0);
}

TEST_CASE(
    "an async_group aggregate declaring more bytes than the bytes left counts as "
    "byte_field_length",
    "[messages]") {
  async_res r;
  r.seq = 2;
  r.client = 5;
  r.outcome = async_group{std::vector<char>(6, 'x'), {2}, 0};
  auto buf = save(r);
  // seq, client, tag 2, then the aggregate's length prefix (6, one byte).
  REQUIRE(buf[12] == 2);
  REQUIRE(buf[13] == 6);
  buf[13] = 100;
  delta d;
  async_res back;
  REQUIRE(load(buf, back));
  CHECK(d.of(wire_reject::byte_field_length) == 1);
  CHECK(d.of(wire_reject::outcome_tag) == 0);
}

TEST_CASE("well-formed messages count no refusal", "[messages]") {
  edge_res e;
  e.aggregate.assign(5, 'b');
  async_res a;
  a.outcome = async_update{10, 0.5, param_blob{std::vector<float>{1.f, 2.f}}, {}};
  auto eb = save(e);
  auto ab = save(a);
  delta d;
  edge_res e2;
  async_res a2;
  REQUIRE_FALSE(load(eb, e2));
  REQUIRE_FALSE(load(ab, a2));
  CHECK(e2.aggregate == e.aggregate);
  CHECK(std::get<async_update>(a2.outcome).params.values() == std::vector<float>{1.f, 2.f});
  for (size_t i = 0; i < wire_reject_count; ++i) CHECK(d.of(static_cast<wire_reject>(i)) == 0);
}

TEST_CASE("the end-of-run line lists the non-zero reasons with their counts", "[messages]") {
  reset_wire_rejects();
  CHECK(wire_rejects_line() == "undeserializable messages: none");
  CHECK(wire_rejects_total() == 0);
  count_wire_reject(wire_reject::param_count);
  count_wire_reject(wire_reject::outcome_tag);
  count_wire_reject(wire_reject::param_count);
  CHECK(wire_rejects(wire_reject::param_count) == 2);
  CHECK(wire_rejects(wire_reject::outcome_tag) == 1);
  CHECK(wire_rejects_total() == 3);
  CHECK(wire_rejects_line() == "undeserializable messages: 3 (param_count 2, outcome_tag 1)");
  reset_wire_rejects();
  CHECK(wire_rejects_line() == "undeserializable messages: none");
}
