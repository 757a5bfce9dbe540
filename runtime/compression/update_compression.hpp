#pragma once

// Where a compressed update is made and read back (docs/communication.md). The client
// (its trainer) compresses Δ = params − base, plus its top-k residual (error feedback); the
// receiver (edge, or the server in async forward mode) decodes the payload to Δ' and rebuilds
// the client's model as base + Δ' in float, which every check and fold downstream reads as
// before. The client computes its new residual against exactly that model, so what the fold
// sees and what the residual carries add up to the client's update:
//   r' = (Δ + r) − ((base + Δ') − base).
// Actor-free, no CAF.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/compression/update_codec.hpp"

namespace fedactor {

// The name of the client state slot holding a client's top-k residual (model size floats).
constexpr const char* topk_residual_slot = "topk.residual";

// The stream a task's codec draws from: derived from its task seed (itself from the scenario
// seed, the client and the round or dispatch number).
uint64_t compression_stream(uint64_t task_seed);

struct client_payload {
  std::vector<char> bytes;      // the encoded update
  std::vector<float> residual;  // topk: the client's next residual (empty for other kinds, and
                                // when the update was not finite: the residual is dropped)
};

// Compresses the update of a client that started from `base` and trained to `params` (n values
// each). `residual`: its top-k residual (n values), nullptr = zero. s.kind must not be none.
client_payload compress_update(const compression_settings& s, const float* base,
                               const float* params, size_t n, const float* residual,
                               uint64_t stream);

// The client's model as `bytes` gives it: base + Δ' (n values), or the reason the payload is
// refused. Nothing is allocated before the payload's length is checked.
std::optional<std::string> decompress_update(const compression_settings& s,
                                             const std::vector<char>& bytes, const float* base,
                                             size_t n, std::vector<float>& params);

// Refusal reason for settings that cannot be used (a kind out of range, block 0, density
// outside (0, 1]); empty when usable. Settings read from another process pass this first.
std::optional<std::string> compression_settings_problem(const compression_settings& s);

}  // namespace fedactor
