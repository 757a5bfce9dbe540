// Tests of runtime/checkpoint/byte_codec.*: little-endian values round trip, and every read past
// the end is refused with the field's name.

#include "runtime/checkpoint/byte_codec.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("byte_codec round-trips every kind of value", "[checkpoint]") {
  byte_writer w;
  w.put_u8(7);
  w.put_u32(0xdeadbeef);
  w.put_u64(0x0123456789abcdefULL);
  w.put_i32(-5);
  w.put_f64(-0.125);
  w.put_i128(-(static_cast<__int128>(1) << 100));
  w.put_floats({1.5f, -2.0f});
  w.put_u32s({3, 4, 5});
  w.put_bytes({'a', 'b'});
  w.put_string("fedactor");
  const auto bytes = w.take();
  // 1 + 4 + 8 + 4 + 8 + 16 + (8 + 8) + (8 + 12) + (8 + 2) + (8 + 8)
  CHECK(bytes.size() == 103);
  CHECK(static_cast<unsigned char>(bytes[1]) == 0xef);  // little-endian: low byte first
  byte_reader r(bytes.data(), bytes.size(), "test");
  CHECK(r.get_u8("a") == 7);
  CHECK(r.get_u32("b") == 0xdeadbeef);
  CHECK(r.get_u64("c") == 0x0123456789abcdefULL);
  CHECK(r.get_i32("d") == -5);
  CHECK(r.get_f64("e") == -0.125);
  CHECK(r.get_i128("f") == -(static_cast<__int128>(1) << 100));
  CHECK(r.get_floats("g") == std::vector<float>{1.5f, -2.0f});
  CHECK(r.get_u32s("h") == std::vector<uint32_t>{3, 4, 5});
  CHECK(r.get_bytes("i") == std::vector<char>{'a', 'b'});
  CHECK(r.get_string("j") == "fedactor");
  CHECK(r.remaining() == 0);
  CHECK_NOTHROW(r.finish());
}

TEST_CASE("byte_codec refuses truncated input, oversized counts and trailing bytes",
          "[checkpoint]") {
  byte_writer w;
  w.put_u32(1);
  auto four = w.take();
  byte_reader short_read(four.data(), four.size(), "the input");
  CHECK_THROWS_WITH(short_read.get_u64("the count"),
                    "the input: truncated (no room for the count)");

  byte_writer big;
  big.put_u64(1000);  // 1000 floats announced, none follow
  auto b = big.take();
  byte_reader counted(b.data(), b.size(), "x");
  CHECK_THROWS_AS(counted.get_floats("model"), checkpoint_error);

  byte_reader trailing(four.data(), four.size(), "y");
  CHECK_THROWS_WITH(trailing.finish(), "y: 4 trailing bytes");
}
