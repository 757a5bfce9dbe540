// Tests of runtime/protocol/model_references.*: the sender's record of the model versions each
// link holds, and each version's digest computed once per buffer.

#include "runtime/protocol/model_references.hpp"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/model_digest.hpp"

using namespace fedactor;

namespace {

model_snapshot snapshot(std::vector<float> v) {
  return std::make_shared<const std::vector<float>>(std::move(v));
}

}  // namespace

TEST_CASE("model references: a version goes in full once per link, then by reference",
          "[protocol]") {
  model_references refs;
  auto v0 = snapshot({1.0f, -1.0f});
  const auto d0 = refs.digest(0, v0);
  CHECK(d0 == sha256_hex(v0->data(), 8));
  // Link 0: full, then references; link 1 is another receiver: full once as well.
  CHECK_FALSE(refs.by_reference(0, 0, d0));
  CHECK(refs.by_reference(0, 0, d0));
  CHECK(refs.by_reference(0, 0, d0));
  CHECK_FALSE(refs.by_reference(1, 0, d0));
  CHECK(refs.by_reference(1, 0, d0));
  // Other bytes under version 0 (a restored checkpoint): full again.
  CHECK_FALSE(refs.by_reference(0, 0, "other"));
  CHECK(refs.by_reference(0, 0, "other"));
  CHECK_FALSE(refs.by_reference(0, 0, d0));
  // The receiver could not match it: full again, then references.
  refs.forget(0, 0, d0);
  CHECK_FALSE(refs.by_reference(0, 0, d0));
  CHECK(refs.by_reference(0, 0, d0));
  // Forgetting another digest than the one held changes nothing.
  refs.forget(0, 0, "other");
  CHECK(refs.by_reference(0, 0, d0));
  // A new receiver on link 1 holds nothing.
  refs.reset(1);
  CHECK(refs.held(1) == 0);
  CHECK_FALSE(refs.by_reference(1, 0, d0));
  CHECK(refs.held(0) == 1);
}

TEST_CASE("model references: a link remembers its newest 64 versions", "[protocol]") {
  model_references refs;
  for (uint64_t v = 1; v <= 70; ++v) CHECK_FALSE(refs.by_reference(0, v, "d"));
  CHECK(refs.held(0) == model_references::max_versions);
  CHECK_FALSE(refs.by_reference(0, 6, "d"));  // versions 1-6 were dropped: full again
  CHECK(refs.by_reference(0, 70, "d"));
}

TEST_CASE("model references: a version's digest is computed once per buffer", "[protocol]") {
  model_references refs;
  auto v3 = snapshot({2.0f});
  const auto d = refs.digest(3, v3);
  CHECK(d == sha256_hex(v3->data(), 4));
  CHECK(refs.hashes() == 1);
  // The same buffer: the remembered digest, no new hash.
  CHECK(refs.digest(3, v3) == d);
  CHECK(refs.digest(3, v3) == d);
  CHECK(refs.hashes() == 1);
  // Another buffer under version 3 with other bytes: hashed again.
  auto other = snapshot({5.0f});
  CHECK(refs.digest(3, other) == sha256_hex(other->data(), 4));
  CHECK(refs.hashes() == 2);
  // Old versions' digests are dropped past 64 versions, and asking one again still works.
  for (uint64_t v = 10; v < 80; ++v) refs.digest(v, v3);
  CHECK(refs.digest(3, v3) == d);
}
