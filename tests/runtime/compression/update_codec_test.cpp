#include "runtime/compression/update_codec.hpp"

#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("update codec: sizes of each kind", "[compression]") {
  compression_settings s;
  CHECK(encoded_update_bytes(s, 2762) == 11048);
  s.kind = compression_kind::fp16;
  CHECK(encoded_update_bytes(s, 2762) == 5 + 5524);
  s.kind = compression_kind::int8;
  s.block = 256;
  CHECK(encoded_update_bytes(s, 2762) == 5 + 4 + 11 * 4 + 2762);
  s.kind = compression_kind::topk;
  s.density = 0.01;
  CHECK(encoded_update_bytes(s, 2762) == 5 + 4 + 28 * 8);
}

TEST_CASE("update codec: the header names the kind and the value count", "[compression]") {
  compression_settings s;
  s.kind = compression_kind::fp16;
  const std::vector<float> x{1.0f, 2.0f, 3.0f};
  auto bytes = encode_update(s, x.data(), 3, 0);
  REQUIRE(bytes.size() == encoded_update_bytes(s, 3));
  CHECK(bytes[0] == 1);
  CHECK(codec_bytes::get_u32(bytes.data() + 1) == 3);
  std::vector<float> back(3);
  REQUIRE_FALSE(decode_update(s, bytes.data(), bytes.size(), 3, back.data()));
  CHECK(back == x);
  s.kind = compression_kind::none;
  CHECK(encode_update(s, x.data(), 3, 0).empty());
}

TEST_CASE("update codec: wrong kind, count or length refused", "[compression]") {
  compression_settings s;
  s.kind = compression_kind::int8;
  s.block = 2;
  const std::vector<float> x{1.0f, 2.0f, 3.0f};
  auto bytes = encode_update(s, x.data(), 3, 0);
  std::vector<float> back(4);
  auto bad = decode_update(s, bytes.data(), 4, 3, back.data());
  REQUIRE(bad);
  CHECK(*bad == "payload of 4 bytes, shorter than its header");
  bad = decode_update(s, bytes.data(), bytes.size(), 4, back.data());
  REQUIRE(bad);
  CHECK(*bad == "payload of 3 values, the model has 4");
  compression_settings other = s;
  other.kind = compression_kind::fp16;
  bad = decode_update(other, bytes.data(), bytes.size(), 3, back.data());
  REQUIRE(bad);
  CHECK(*bad == "payload of kind 2, expected fp16");
}
