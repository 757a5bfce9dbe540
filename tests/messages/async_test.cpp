// Tests of messages/async.*: the async_res variant on the wire, its tag checked on the way in.

#include "messages/async.hpp"

#include <cstdint>
#include <variant>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/system_config.hpp"
#include "tests/support/serializer_round_trip.hpp"

using namespace fedactor;

TEST_CASE("async_res carries each outcome with its own fields through a serializer", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  async_res r;
  r.seq = 1ull << 40;
  r.client = 4000000000u;
  r.outcome = async_update{17, 0.25, param_blob{std::vector<float>{1.5f, -2.0f}}, {}};
  auto a = fedactor::test::round_trip(sys, r);
  CHECK(a.seq == r.seq);
  CHECK(a.client == r.client);
  REQUIRE(std::holds_alternative<async_update>(a.outcome));
  CHECK(std::get<async_update>(a.outcome).num_samples == 17);
  CHECK(std::get<async_update>(a.outcome).loss == 0.25);
  CHECK(std::get<async_update>(a.outcome).params.values() == std::vector<float>{1.5f, -2.0f});
  r.outcome = async_held{};
  CHECK(std::holds_alternative<async_held>(fedactor::test::round_trip(sys, r).outcome));
  r.outcome = async_group{{'x', '\0'}, {3, 9}, 0};
  auto g = fedactor::test::round_trip(sys, r);
  REQUIRE(std::holds_alternative<async_group>(g.outcome));
  CHECK(std::get<async_group>(g.outcome).aggregate == std::vector<char>{'x', '\0'});
  CHECK(std::get<async_group>(g.outcome).members == std::vector<uint64_t>{3, 9});
  r.outcome = async_refused{4, "client 7: rejected update: non-finite loss"};
  auto x = fedactor::test::round_trip(sys, r);
  REQUIRE(std::holds_alternative<async_refused>(x.outcome));
  CHECK(std::get<async_refused>(x.outcome).reason == 4);
  CHECK(std::get<async_refused>(x.outcome).what == "client 7: rejected update: non-finite loss");
}

TEST_CASE("a refused async_res is seq, client, tag 3, the reason byte and the text", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  async_res r;
  r.seq = 0x0102030405060708ull;
  r.client = 0x0a0b0c0du;
  r.outcome = async_refused{2, "ab"};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(inspect(sink, r));
  // CAF 0.17's binary format: integers in network byte order, a string as its length (one
  // varbyte here) and its bytes.
  const std::vector<char> want = {1,    2,    3,    4, 5, 6, 7,   8,  0x0a,
                                  0x0b, 0x0c, 0x0d, 3, 2, 2, 'a', 'b'};
  CHECK(buf == want);
}

TEST_CASE("an async_res with an unknown outcome tag fails to deserialize", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  // seq, client, then tag 4 (one past the last outcome) and tag 255.
  for (uint8_t tag : {uint8_t{4}, uint8_t{255}}) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    uint64_t seq = 5;
    uint32_t client = 2;
    REQUIRE_FALSE(sink(seq, client, tag));
    async_res out;
    caf::binary_deserializer source{sys, buf};
    auto err = inspect(source, out);
    INFO(static_cast<int>(tag));
    REQUIRE(err);
    CHECK(err == caf::sec::invalid_argument);
  }
}

TEST_CASE("a truncated async_res fails to deserialize", "[messages]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  async_res r;
  r.seq = 5;
  r.client = 2;
  r.outcome = async_update{17, 0.25, param_blob{std::vector<float>{1, 2, 3}}, {}};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(inspect(sink, r));
  buf.resize(buf.size() - 5);
  async_res out;
  caf::binary_deserializer source{sys, buf};
  CHECK(inspect(source, out));
}
