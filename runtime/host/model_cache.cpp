#include "runtime/host/model_cache.hpp"

#include <algorithm>

#include "runtime/math/model_digest.hpp"

namespace fedactor {

std::string model_digest(const param_blob& model) {
  return sha256_hex(model.data(), model.size() * sizeof(float));
}

bool model_cache::put(uint64_t version, param_blob model, std::string digest) {
  const uint64_t newest = models_.empty() ? version : std::max(version, models_.rbegin()->first);
  const uint64_t lowest = newest > window_ ? newest - window_ : 0;
  models_.erase(models_.begin(), models_.lower_bound(lowest));
  if (version < lowest) return false;
  models_[version] = entry{std::move(model), std::move(digest)};
  return true;
}

std::optional<param_blob> model_cache::find(uint64_t version, const std::string& digest) const {
  auto it = models_.find(version);
  if (it == models_.end() || it->second.digest != digest) return std::nullopt;
  return it->second.model;
}

model_resolution model_cache::resolve(uint64_t version, param_blob& model,
                                      const std::string& digest, bool by_reference) {
  if (!by_reference) {
    auto got = model_digest(model);
    if (got != digest) return model_resolution::digest_mismatch;
    put(version, model, std::move(got));
    return model_resolution::resolved;
  }
  if (!model.empty()) return model_resolution::refers_and_carries;
  auto held = find(version, digest);
  if (!held) return model_resolution::missing;
  model = std::move(*held);
  return model_resolution::resolved;
}

}  // namespace fedactor
