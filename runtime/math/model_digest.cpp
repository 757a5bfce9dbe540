#include "runtime/math/model_digest.hpp"

#include <cmath>
#include <cstdio>

#include <openssl/evp.h>

namespace fedactor {

std::string sha256_hex(const void* data, size_t bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, bytes, md, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(2 * len);
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", md[i]);
    out += buf;
  }
  return out;
}

double l2_norm(const std::vector<float>& params) {
  double sum = 0;
  for (float v : params) sum += static_cast<double>(v) * v;
  return std::sqrt(sum);
}

}  // namespace fedactor
