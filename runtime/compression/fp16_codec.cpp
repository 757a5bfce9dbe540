#include "runtime/compression/fp16_codec.hpp"

#include <cstring>

#include "runtime/compression/update_codec.hpp"

namespace fedactor {

uint16_t float_to_half(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exp = (bits >> 23) & 0xffu;
  const uint32_t mant = bits & 0x7fffffu;
  if (exp == 0xff) {
    if (mant == 0) return sign | 0x7c00u;                         // ±inf
    return static_cast<uint16_t>(sign | 0x7e00u | (mant >> 13));  // NaN, quiet
  }
  const int e = static_cast<int>(exp) - 127;
  if (e > 15) return sign | 0x7c00u;  // overflow: ±inf
  if (e >= -14) {                     // normal half (rounding may carry into inf)
    uint32_t h = (static_cast<uint32_t>(e + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (exp == 0 || e < -25) return sign;  // below half the smallest subnormal (2^-25): ±0
  // Subnormal half: units of 2^-24. The value is m · 2^(e-23), so m >> (-e-1) units.
  const uint32_t m = mant | 0x800000u;
  const int shift = -e - 1;  // 14..24
  uint32_t h = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1);
  const uint32_t half_way = 1u << (shift - 1);
  if (rest > half_way || (rest == half_way && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = mant;
      do {
        ++e;
        m <<= 1;
      } while ((m & 0x400u) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((m & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

size_t fp16_body_bytes(size_t n) {
  return 2 * n;
}

void fp16_encode(const float* x, size_t n, std::vector<char>& out) {
  for (size_t i = 0; i < n; ++i) codec_bytes::put_u16(out, float_to_half(x[i]));
}

std::optional<std::string> fp16_decode(const char* body, size_t len, size_t n, float* out) {
  if (len != fp16_body_bytes(n))
    return "fp16 body of " + std::to_string(len) + " bytes, expected " +
           std::to_string(fp16_body_bytes(n));
  for (size_t i = 0; i < n; ++i) out[i] = half_to_float(codec_bytes::get_u16(body + 2 * i));
  return std::nullopt;
}

}  // namespace fedactor
