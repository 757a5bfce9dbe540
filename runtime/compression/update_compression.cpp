#include "runtime/compression/update_compression.hpp"

#include <cmath>

#include "runtime/math/rng.hpp"

namespace fedactor {

uint64_t compression_stream(uint64_t task_seed) {
  return stream_key(task_seed, rng_tag::compression);
}

client_payload compress_update(const compression_settings& s, const float* base,
                               const float* params, size_t n, const float* residual,
                               uint64_t stream) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = params[i] - base[i];  // in float, as the fold's add_difference
    if (residual) v[i] += residual[i];
  }
  client_payload out;
  out.bytes = encode_update(s, v.data(), n, stream);
  if (s.kind != compression_kind::topk) return out;
  std::vector<float> decoded(n);
  // Cannot fail: the payload was just made with the same settings.
  decode_update(s, out.bytes.data(), out.bytes.size(), n, decoded.data());
  bool finite = true;
  for (size_t i = 0; i < n; ++i) {
    const float applied = (base[i] + decoded[i]) - base[i];  // what the fold will see
    v[i] -= applied;
    if (!std::isfinite(v[i])) finite = false;
  }
  if (finite) out.residual = std::move(v);
  return out;
}

std::optional<std::string> decompress_update(const compression_settings& s,
                                             const std::vector<char>& bytes, const float* base,
                                             size_t n, std::vector<float>& params) {
  const size_t want = encoded_update_bytes(s, n);
  if (bytes.size() != want)
    return "compressed update of " + std::to_string(bytes.size()) + " bytes, expected " +
           std::to_string(want) + " (" + to_string(s.kind) + ", " + std::to_string(n) + " values)";
  params.resize(n);
  if (auto bad = decode_update(s, bytes.data(), bytes.size(), n, params.data())) return bad;
  for (size_t i = 0; i < n; ++i) params[i] = base[i] + params[i];
  return std::nullopt;
}

std::optional<std::string> compression_settings_problem(const compression_settings& s) {
  if (static_cast<uint8_t>(s.kind) > static_cast<uint8_t>(compression_kind::topk))
    return "compression kind " + std::to_string(static_cast<unsigned>(s.kind)) + " unknown";
  if (s.kind == compression_kind::int8 && s.block == 0) return std::string{"int8 block size 0"};
  if (s.kind == compression_kind::topk && !(s.density > 0 && s.density <= 1))
    return "topk density " + std::to_string(s.density) + " outside (0, 1]";
  return std::nullopt;
}

}  // namespace fedactor
