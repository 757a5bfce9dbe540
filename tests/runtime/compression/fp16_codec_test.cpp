#include "runtime/compression/fp16_codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("fp16: normal values round to the nearest half, ties to even", "[compression]") {
  CHECK(float_to_half(1.0f) == 0x3c00);
  CHECK(float_to_half(-2.0f) == 0xc000);
  CHECK(float_to_half(0.1f) == 0x2e66);
  CHECK(float_to_half(65504.0f) == 0x7bff);  // the largest half
  // 1 + 2^-11 lies halfway between 1 (even mantissa) and 1 + 2^-10: down to 1.
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
  // 1 + 3 * 2^-11 lies halfway between mantissa 1 (odd) and 2: up to 2.
  CHECK(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
  // Just above halfway: up.
  CHECK(float_to_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3c01);
  // Rounding carries into the exponent: 2 - 2^-12 rounds up to 2.
  CHECK(float_to_half(2.0f - std::ldexp(1.0f, -12)) == 0x4000);
}

TEST_CASE("fp16: overflow becomes infinity, infinities and signed zeros stay", "[compression]") {
  CHECK(float_to_half(65519.0f) == 0x7bff);  // below halfway to 65536
  CHECK(float_to_half(65520.0f) == 0x7c00);  // halfway, ties to even = 2^16: overflow
  CHECK(float_to_half(1e10f) == 0x7c00);
  CHECK(float_to_half(-1e10f) == 0xfc00);
  CHECK(float_to_half(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(float_to_half(-std::numeric_limits<float>::infinity()) == 0xfc00);
  CHECK(float_to_half(0.0f) == 0x0000);
  CHECK(float_to_half(-0.0f) == 0x8000);
}

TEST_CASE("fp16: subnormals round in units of 2^-24", "[compression]") {
  CHECK(float_to_half(std::ldexp(1.0f, -24)) == 0x0001);         // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);         // half a unit: ties to 0
  CHECK(float_to_half(1.5f * std::ldexp(1.0f, -25)) == 0x0001);  // 0.75 unit: up
  CHECK(float_to_half(3.0f * std::ldexp(1.0f, -25)) == 0x0002);  // 1.5 units: ties to 2
  CHECK(float_to_half(-std::ldexp(1.0f, -24)) == 0x8001);
  CHECK(float_to_half(1023.0f * std::ldexp(1.0f, -24)) == 0x03ff);  // largest subnormal
  CHECK(float_to_half(std::ldexp(1.0f, -14)) == 0x0400);            // smallest normal
  CHECK(float_to_half(std::ldexp(1.0f, -26)) == 0x0000);
  CHECK(float_to_half(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(half_to_float(0x03ff) == 1023.0f * std::ldexp(1.0f, -24));
  CHECK(half_to_float(0x8200) == -512.0f * std::ldexp(1.0f, -24));
}

TEST_CASE("fp16: NaN stays NaN, quiet, with its sign", "[compression]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(float_to_half(nan) == 0x7e00);
  CHECK(float_to_half(-nan) == 0xfe00);
  CHECK(std::isnan(half_to_float(0x7e00)));
  CHECK(std::isnan(half_to_float(0x7c01)));  // a signalling half NaN decodes to a NaN too
  CHECK(half_to_float(0x7c00) == std::numeric_limits<float>::infinity());
  CHECK(half_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
}

TEST_CASE("fp16: every half converts to a float and back to itself", "[compression]") {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_half(f) == h);
  }
}

TEST_CASE("fp16: a body is two little-endian bytes per value, its length checked",
          "[compression]") {
  const std::vector<float> x{1.0f, -2.0f};
  std::vector<char> out;
  fp16_encode(x.data(), x.size(), out);
  REQUIRE(out.size() == 4);
  CHECK(static_cast<uint8_t>(out[0]) == 0x00);
  CHECK(static_cast<uint8_t>(out[1]) == 0x3c);
  CHECK(static_cast<uint8_t>(out[2]) == 0x00);
  CHECK(static_cast<uint8_t>(out[3]) == 0xc0);
  std::vector<float> back(2);
  CHECK_FALSE(fp16_decode(out.data(), out.size(), 2, back.data()));
  CHECK(back == x);
  auto bad = fp16_decode(out.data(), 3, 2, back.data());
  REQUIRE(bad);
  CHECK(*bad == "fp16 body of 3 bytes, expected 4");
}
