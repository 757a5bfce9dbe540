#pragma once

// The sending side of "a model crosses a link once per version" (docs/communication.md) for
// links to receivers in other processes, e.g. the server's link to each edge in async runs:
// which model versions (with the digest of their bytes) each link has been sent in full, so a
// later task of that version and digest goes as a reference; and each version's digest,
// computed once per model buffer rather than per task. Bounded: each link remembers the newest
// `max_versions` versions it sent (an older one is simply sent in full again), and the digests
// of as many versions. Actor-free; the receiver matches a reference by version AND digest
// (runtime/host/model_cache.hpp) and refuses one it cannot match, after which the sender
// calls forget and sends the model again.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/protocol/model_snapshot.hpp"

namespace fedactor {

class model_references {
 public:
  static constexpr size_t max_versions = 64;

  // SHA-256 (hex) of `model`'s bytes, the model of `version`: hashed the first time this
  // version is asked with this buffer, remembered after that (tasks of one version share one
  // buffer: one hash per version). A new buffer under a known version is hashed again.
  std::string digest(uint64_t version, const model_snapshot& model);

  // Whether a task of `version` with `digest` goes to `link` by reference: true when the link
  // was sent that version with that digest in full before (and not told to forget it). False:
  // the caller sends the model in full, and the link is marked as holding it from now on.
  bool by_reference(uint32_t link, uint64_t version, const std::string& digest);

  // The receiver on `link` could not match the reference (`version`, `digest`): the next task
  // of that version goes in full again.
  void forget(uint32_t link, uint64_t version, const std::string& digest);

  // The receiver on `link` is a new one (a new registration): it holds nothing.
  void reset(uint32_t link);

  // Versions `link` is remembered to hold in full.
  size_t held(uint32_t link) const;

  // Digests computed so far (SHA-256 runs over a model).
  uint64_t hashes() const { return hashes_; }

 private:
  struct digested {
    std::weak_ptr<const std::vector<float>> buffer;
    std::string digest;
  };
  std::map<uint64_t, digested> digests_;                      // by version
  std::map<uint32_t, std::map<uint64_t, std::string>> sent_;  // by link, then version
  uint64_t hashes_ = 0;
};

}  // namespace fedactor
