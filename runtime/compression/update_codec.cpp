#include "runtime/compression/update_codec.hpp"

#include <cstring>

#include "runtime/compression/fp16_codec.hpp"
#include "runtime/compression/int8_codec.hpp"
#include "runtime/compression/topk_codec.hpp"

namespace fedactor {

const char* to_string(compression_kind k) {
  switch (k) {
    case compression_kind::none:
      return "none";
    case compression_kind::fp16:
      return "fp16";
    case compression_kind::int8:
      return "int8";
    case compression_kind::topk:
      return "topk";
  }
  return "?";
}

namespace codec_bytes {

void put_u16(std::vector<char>& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}

void put_u32(std::vector<char>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_f32(std::vector<char>& out, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_u32(out, bits);
}

uint16_t get_u16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | (static_cast<uint8_t>(p[1]) << 8));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

float get_f32(const char* p) {
  const uint32_t bits = get_u32(p);
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

}  // namespace codec_bytes

size_t encoded_update_bytes(const compression_settings& s, size_t n) {
  switch (s.kind) {
    case compression_kind::none:
      return 4 * n;
    case compression_kind::fp16:
      return update_header_bytes + fp16_body_bytes(n);
    case compression_kind::int8:
      return update_header_bytes + int8_body_bytes(n, s.block);
    case compression_kind::topk:
      return update_header_bytes + topk_body_bytes(n, s.density);
  }
  return 4 * n;
}

std::vector<char> encode_update(const compression_settings& s, const float* delta, size_t n,
                                uint64_t stream) {
  std::vector<char> out;
  if (s.kind == compression_kind::none) return out;
  out.reserve(encoded_update_bytes(s, n));
  out.push_back(static_cast<char>(s.kind));
  codec_bytes::put_u32(out, static_cast<uint32_t>(n));
  switch (s.kind) {
    case compression_kind::fp16:
      fp16_encode(delta, n, out);
      break;
    case compression_kind::int8:
      int8_encode(delta, n, s.block, stream, out);
      break;
    case compression_kind::topk:
      topk_encode(delta, n, s.density, out);
      break;
    case compression_kind::none:
      break;
  }
  return out;
}

std::optional<std::string> decode_update(const compression_settings& s, const char* bytes,
                                         size_t len, size_t n, float* out) {
  if (s.kind == compression_kind::none)
    return std::string{"compressed payload in a run without compression"};
  if (len < update_header_bytes || bytes == nullptr)
    return "payload of " + std::to_string(len) + " bytes, shorter than its header";
  const auto kind = static_cast<uint8_t>(bytes[0]);
  if (kind != static_cast<uint8_t>(s.kind))
    return "payload of kind " + std::to_string(kind) + ", expected " + to_string(s.kind);
  const uint32_t count = codec_bytes::get_u32(bytes + 1);
  if (count != n)
    return "payload of " + std::to_string(count) + " values, the model has " + std::to_string(n);
  const char* body = bytes + update_header_bytes;
  const size_t body_len = len - update_header_bytes;
  switch (s.kind) {
    case compression_kind::fp16:
      return fp16_decode(body, body_len, n, out);
    case compression_kind::int8:
      return int8_decode(body, body_len, n, s.block, out);
    case compression_kind::topk:
      return topk_decode(body, body_len, n, s.density, out);
    case compression_kind::none:
      break;
  }
  return std::string{"unknown compression kind"};
}

}  // namespace fedactor
