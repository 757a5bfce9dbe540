#pragma once

// The models a client host holds by version (docs/communication.md), so a model crosses the
// edge -> host link once per version: tasks then carry a reference (version + digest of the
// model's bytes) instead of the model. Bounded: it keeps the newest version it was given and
// the `window` versions below it (sync: 0, the latest only; async: the staleness threshold,
// since an older base model is discarded by the server anyway). A lookup matches version AND
// digest, so a reference to a version held with other bytes (a restarted server, a restored
// checkpoint) finds nothing instead of the wrong model.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "messages/param_blob.hpp"

namespace fedactor {

// The digest a model is referred to by: SHA-256 (hex) of its raw float bytes.
std::string model_digest(const param_blob& model);

class model_cache {
 public:
  explicit model_cache(uint64_t window = 0) : window_(window) {}

  // Keeps `model` as `version` with `digest` (replacing what that version held) and evicts
  // the versions below newest − window. False when `version` is itself below that (not kept).
  bool put(uint64_t version, param_blob model, std::string digest);

  // The model held for `version` with exactly `digest`, or nothing.
  std::optional<param_blob> find(uint64_t version, const std::string& digest) const;

  size_t size() const { return models_.size(); }
  uint64_t window() const { return window_; }

 private:
  struct entry {
    param_blob model;
    std::string digest;
  };
  uint64_t window_;
  std::map<uint64_t, entry> models_;  // by version
};

}  // namespace fedactor
