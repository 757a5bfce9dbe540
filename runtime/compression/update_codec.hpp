#pragma once

// Compressed client updates (docs/communication.md): the common interface of the codecs. A
// client encodes its update Δ (its model after training minus the model it started from) into
// raw bytes; the receiver (edge, or the server in async forward mode) decodes them back to Δ'
// before the exact fold. The receiver knows the settings (the scenario's compression section)
// and the model size, so every length in a payload is checked against them before anything
// is allocated or written; a payload that does not match is refused with a reason.
//
// Every payload starts with a 5-byte header: the kind (1 byte) and the value count (uint32,
// little-endian), then the codec's body (fp16_codec.hpp, int8_codec.hpp, topk_codec.hpp).
// Actor-free, no CAF.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

enum class compression_kind : uint8_t { none = 0, fp16 = 1, int8 = 2, topk = 3 };

const char* to_string(compression_kind k);

struct compression_settings {
  compression_kind kind = compression_kind::none;
  uint32_t block = 256;   // int8: values per block (one float scale each)
  double density = 0.01;  // topk: fraction of the values sent, k = ceil(density · n), k >= 1
};

// The header every payload starts with.
constexpr size_t update_header_bytes = 5;

// Bytes of the encoded update of `n` values (kind none: 4n, the raw floats).
size_t encoded_update_bytes(const compression_settings& s, size_t n);

// Encodes Δ (n values). `stream` seeds the codec's random choices (int8's stochastic rounding):
// the same stream gives the same bytes. Non-finite values stay non-finite in the decoded
// update (the update checks refuse them). kind none is not encoded (returns empty).
std::vector<char> encode_update(const compression_settings& s, const float* delta, size_t n,
                                uint64_t stream);

// Decodes `len` bytes into `out` (n values). Empty when the payload is well formed, else the
// reason ("payload of 12 bytes, expected 5525", "index 9000 out of range"); `out` is then
// unspecified. Checks come before any write past n values.
std::optional<std::string> decode_update(const compression_settings& s, const char* bytes,
                                         size_t len, size_t n, float* out);

// Little-endian helpers shared by the codecs.
namespace codec_bytes {
void put_u16(std::vector<char>& out, uint16_t v);
void put_u32(std::vector<char>& out, uint32_t v);
void put_f32(std::vector<char>& out, float v);
uint16_t get_u16(const char* p);
uint32_t get_u32(const char* p);
float get_f32(const char* p);
}  // namespace codec_bytes

}  // namespace fedactor
