#pragma once

// int8 update codec: the values in blocks of `block` (the last one shorter); per block a float
// scale = max|x| / 127 and each value as a signed byte q in [-127, 127], x/scale rounded
// stochastically (up with probability equal to the fraction, from the seeded stream: unbiased,
// E[q · scale] = x). A block holding a non-finite value gets scale NaN (its values decode to
// NaN and the update checks refuse them); an all-zero block scale 0.
// Body: uint32 block size, then per block its float scale and its bytes
// (payload 9 + 4 · ceil(n / block) + n bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

size_t int8_body_bytes(size_t n, uint32_t block);
void int8_encode(const float* x, size_t n, uint32_t block, uint64_t stream, std::vector<char>& out);
std::optional<std::string> int8_decode(const char* body, size_t len, size_t n, uint32_t block,
                                       float* out);

}  // namespace fedactor
