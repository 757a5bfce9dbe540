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

// What model_cache::resolve made of a task's model.
enum class model_resolution {
  resolved,            // the carried model matched its digest (now cached), or the reference hit
  digest_mismatch,     // a carried model whose bytes do not match the digest sent with it
  refers_and_carries,  // a task that both carries a model and says it goes by reference
  missing,             // a reference to no model held with that version and digest
};

class model_cache {
 public:
  explicit model_cache(uint64_t window = 0) : window_(window) {}

  // Keeps `model` as `version` with `digest` (replacing what that version held) and evicts
  // the versions below newest − window. False when `version` is itself below that (not kept).
  bool put(uint64_t version, param_blob model, std::string digest);

  // The model held for `version` with exactly `digest`, or nothing.
  std::optional<param_blob> find(uint64_t version, const std::string& digest) const;

  // A task's model of `version`: carried (`by_reference` false), it is hashed here, checked
  // against `digest` and kept; by reference, `model` (which must be empty) becomes the held
  // model of that version and digest, sharing its buffer. `model` is unchanged unless resolved.
  // Hashes the model once when carried, nothing otherwise.
  model_resolution resolve(uint64_t version, param_blob& model, const std::string& digest,
                           bool by_reference);

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
