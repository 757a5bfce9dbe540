#pragma once

// fp16 update codec: each value as an IEEE 754 binary16, rounded to nearest, ties to even.
// Overflow becomes ±inf, values below half the smallest subnormal become ±0, NaN stays NaN
// (quiet, sign kept). Body: n × uint16 little-endian (payload 5 + 2n bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

// float → binary16 bits, round to nearest even.
uint16_t float_to_half(float x);

// binary16 bits → float (exact: every half is a float).
float half_to_float(uint16_t h);

size_t fp16_body_bytes(size_t n);
void fp16_encode(const float* x, size_t n, std::vector<char>& out);
std::optional<std::string> fp16_decode(const char* body, size_t len, size_t n, float* out);

}  // namespace fedactor
