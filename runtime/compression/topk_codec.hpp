#pragma once

// top-k update codec: the k values of largest magnitude, k = ceil(density · n) clamped to
// [1, n], as (uint32 index, float value) pairs in ascending index order; the other values
// decode to 0. Ties in magnitude go to the lower index; a non-finite value counts as the
// largest (it is sent, and the update checks refuse it). The error feedback that makes top-k
// converge (the residual kept per client) is update_compression.hpp's.
// Body: uint32 k, then k × (uint32 index, float value) (payload 9 + 8k bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

uint32_t topk_count(size_t n, double density);
size_t topk_body_bytes(size_t n, double density);
void topk_encode(const float* x, size_t n, double density, std::vector<char>& out);
std::optional<std::string> topk_decode(const char* body, size_t len, size_t n, double density,
                                       float* out);

}  // namespace fedactor
