#include "runtime/compression/int8_codec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/compression/update_codec.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

size_t blocks_of(size_t n, uint32_t block) {
  return block == 0 ? 0 : (n + block - 1) / block;
}

}  // namespace

size_t int8_body_bytes(size_t n, uint32_t block) {
  return 4 + 4 * blocks_of(n, block) + n;
}

void int8_encode(const float* x, size_t n, uint32_t block, uint64_t stream,
                 std::vector<char>& out) {
  codec_bytes::put_u32(out, block);
  if (block == 0) return;  // no blocks: the decoder refuses the payload
  rng r{stream};
  for (size_t begin = 0; begin < n; begin += block) {
    const size_t end = std::min(n, begin + block);
    float max_abs = 0;
    bool finite = true;
    for (size_t i = begin; i < end; ++i) {
      if (!std::isfinite(x[i])) finite = false;
      max_abs = std::max(max_abs, std::fabs(x[i]));
    }
    const float scale = finite ? max_abs / 127.0f : std::numeric_limits<float>::quiet_NaN();
    codec_bytes::put_f32(out, scale);
    for (size_t i = begin; i < end; ++i) {
      // One draw per value, always: the stream's position does not depend on the values.
      const double u = r.uniform();
      int q = 0;
      if (finite && scale > 0) {
        const double t = static_cast<double>(x[i]) / static_cast<double>(scale);
        const double fl = std::floor(t);
        q = static_cast<int>(fl) + (u < t - fl ? 1 : 0);
        q = std::clamp(q, -127, 127);
      }
      out.push_back(static_cast<char>(static_cast<int8_t>(q)));
    }
  }
}

std::optional<std::string> int8_decode(const char* body, size_t len, size_t n, uint32_t block,
                                       float* out) {
  if (len < 4) return "int8 body of " + std::to_string(len) + " bytes, shorter than its block size";
  if (block == 0) return std::string{"int8 block size 0"};
  const uint32_t got_block = codec_bytes::get_u32(body);
  if (got_block != block)
    return "int8 blocks of " + std::to_string(got_block) + " values, expected " +
           std::to_string(block);
  if (len != int8_body_bytes(n, block))
    return "int8 body of " + std::to_string(len) + " bytes, expected " +
           std::to_string(int8_body_bytes(n, block)) + " (" + std::to_string(blocks_of(n, block)) +
           " blocks)";
  const char* p = body + 4;
  for (size_t begin = 0; begin < n; begin += block) {
    const size_t end = std::min(n, begin + block);
    const float scale = codec_bytes::get_f32(p);
    p += 4;
    for (size_t i = begin; i < end; ++i, ++p) {
      const auto q = static_cast<int8_t>(*p);
      if (q == -128) return "int8 value -128 at index " + std::to_string(i) + " (range is ±127)";
      out[i] = static_cast<float>(q) * scale;
    }
  }
  return std::nullopt;
}

}  // namespace fedactor
