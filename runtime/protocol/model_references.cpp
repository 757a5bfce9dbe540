#include "runtime/protocol/model_references.hpp"

#include "runtime/math/model_digest.hpp"

namespace fedactor {

std::string model_references::digest(uint64_t version, const model_snapshot& model) {
  auto& d = digests_[version];
  if (!model || d.buffer.lock() != model || d.digest.empty()) {
    d.digest =
        model ? sha256_hex(model->data(), model->size() * sizeof(float)) : sha256_hex(nullptr, 0);
    d.buffer = model;
    ++hashes_;
  }
  std::string out = d.digest;
  while (digests_.size() > max_versions) digests_.erase(digests_.begin());
  return out;
}

bool model_references::by_reference(uint32_t link, uint64_t version, const std::string& digest) {
  auto& sent = sent_[link];
  auto it = sent.find(version);
  if (it != sent.end() && it->second == digest) return true;
  sent[version] = digest;
  while (sent.size() > max_versions) sent.erase(sent.begin());
  return false;
}

void model_references::forget(uint32_t link, uint64_t version, const std::string& digest) {
  auto l = sent_.find(link);
  if (l == sent_.end()) return;
  auto it = l->second.find(version);
  if (it != l->second.end() && it->second == digest) l->second.erase(it);
}

void model_references::reset(uint32_t link) {
  sent_.erase(link);
}

size_t model_references::held(uint32_t link) const {
  auto l = sent_.find(link);
  return l == sent_.end() ? 0 : l->second.size();
}

}  // namespace fedactor
