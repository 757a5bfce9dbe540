#pragma once

// Fingerprints of a parameter vector: SHA-256 of its raw bytes (the run's identity for
// reproducibility checks) and its L2 norm.

#include <cstddef>
#include <string>
#include <vector>

namespace fedactor {

std::string sha256_hex(const void* data, size_t bytes);

inline std::string model_sha256(const std::vector<float>& params) {
  return sha256_hex(params.data(), params.size() * sizeof(float));
}

double l2_norm(const std::vector<float>& params);

}  // namespace fedactor
