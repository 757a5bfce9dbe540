#include "runtime/compression/topk_codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "runtime/compression/update_codec.hpp"

namespace fedactor {

uint32_t topk_count(size_t n, double density) {
  if (n == 0) return 0;
  const double k = std::ceil(density * static_cast<double>(n));
  if (!(k >= 1)) return 1;
  if (k >= static_cast<double>(n)) return static_cast<uint32_t>(n);
  return static_cast<uint32_t>(k);
}

size_t topk_body_bytes(size_t n, double density) {
  return 4 + 8 * size_t{topk_count(n, density)};
}

void topk_encode(const float* x, size_t n, double density, std::vector<char>& out) {
  const uint32_t k = topk_count(n, density);
  codec_bytes::put_u32(out, k);
  const auto key = [x](uint32_t i) {
    return std::isfinite(x[i]) ? std::fabs(x[i]) : std::numeric_limits<float>::infinity();
  };
  // A strict total order: larger magnitude first, then lower index.
  const auto before = [&key](uint32_t a, uint32_t b) {
    const float ka = key(a), kb = key(b);
    return ka > kb || (ka == kb && a < b);
  };
  std::vector<uint32_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0u);
  if (k < n) std::nth_element(idx.begin(), idx.begin() + k, idx.end(), before);
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  for (uint32_t i : idx) {
    codec_bytes::put_u32(out, i);
    codec_bytes::put_f32(out, x[i]);
  }
}

std::optional<std::string> topk_decode(const char* body, size_t len, size_t n, double density,
                                       float* out) {
  if (len < 4) return "topk body of " + std::to_string(len) + " bytes, shorter than its count";
  const uint32_t k = codec_bytes::get_u32(body);
  const uint32_t want = topk_count(n, density);
  if (k != want)
    return "topk payload of " + std::to_string(k) + " pairs, expected " + std::to_string(want);
  if (len != topk_body_bytes(n, density))
    return "topk body of " + std::to_string(len) + " bytes, expected " +
           std::to_string(topk_body_bytes(n, density));
  std::fill(out, out + n, 0.0f);
  const char* p = body + 4;
  int64_t last = -1;
  for (uint32_t j = 0; j < k; ++j, p += 8) {
    const uint32_t i = codec_bytes::get_u32(p);
    if (i >= n)
      return "topk index " + std::to_string(i) + " out of range (model of " + std::to_string(n) +
             " values)";
    if (static_cast<int64_t>(i) <= last)
      return "topk index " + std::to_string(i) + " not above the previous one";
    last = i;
    out[i] = codec_bytes::get_f32(p + 4);
  }
  return std::nullopt;
}

}  // namespace fedactor
