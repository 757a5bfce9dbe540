// Tests of runtime/host/model_cache.*: models kept by version and digest, bounded by a window
// of versions below the newest.

#include "runtime/host/model_cache.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/model_digest.hpp"

using namespace fedactor;

namespace {

param_blob blob(std::vector<float> v) {
  return param_blob{std::move(v)};
}

}  // namespace

TEST_CASE("a model's digest is the SHA-256 of its raw float bytes", "[host]") {
  // SHA-256 of no bytes, and of the 4 bytes of 0.0f (00 00 00 00).
  CHECK(model_digest(param_blob{}) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(model_digest(blob({0.0f})) ==
        "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119");
  CHECK(model_digest(blob({1.0f, 2.0f})) == sha256_hex(std::vector<float>{1.0f, 2.0f}.data(), 8));
}

TEST_CASE("a model cache finds a version only with the digest it was given", "[host]") {
  model_cache c;
  auto m = blob({1.0f, 2.0f});
  CHECK(c.put(7, m, "d7"));
  auto found = c.find(7, "d7");
  REQUIRE(found);
  CHECK(found->shares_buffer_with(m));  // kept, not copied
  CHECK_FALSE(c.find(7, "other bytes"));
  CHECK_FALSE(c.find(6, "d7"));
  // The same version with other bytes replaces it: the old digest no longer matches.
  auto m2 = blob({3.0f});
  CHECK(c.put(7, m2, "d7b"));
  CHECK_FALSE(c.find(7, "d7"));
  REQUIRE(c.find(7, "d7b"));
  CHECK(c.find(7, "d7b")->shares_buffer_with(m2));
  CHECK(c.size() == 1);
}

TEST_CASE("a model cache with window 0 keeps the newest version only", "[host]") {
  model_cache c{0};
  CHECK(c.put(1, blob({1.0f}), "a"));
  CHECK(c.put(2, blob({2.0f}), "b"));
  CHECK(c.size() == 1);
  CHECK_FALSE(c.find(1, "a"));
  CHECK(c.find(2, "b"));
  // An older version than the newest is not kept (and evicts nothing).
  CHECK_FALSE(c.put(1, blob({1.0f}), "a"));
  CHECK(c.size() == 1);
  CHECK(c.find(2, "b"));
}

TEST_CASE("a model cache keeps the window of versions below the newest", "[host]") {
  model_cache c{2};
  CHECK(c.window() == 2);
  for (uint64_t v = 10; v <= 13; ++v) CHECK(c.put(v, blob({float(v)}), std::to_string(v)));
  // Newest 13, window 2: 11, 12, 13 stay.
  CHECK(c.size() == 3);
  CHECK_FALSE(c.find(10, "10"));
  CHECK(c.find(11, "11"));
  CHECK(c.find(13, "13"));
  // A version inside the window arriving late is kept; one below it is not.
  model_cache late{2};
  CHECK(late.put(13, blob({13.0f}), "13"));
  CHECK(late.put(11, blob({11.0f}), "11"));
  CHECK_FALSE(late.put(10, blob({10.0f}), "10"));
  CHECK(late.size() == 2);
  // Versions near 0 do not wrap around.
  model_cache low{5};
  CHECK(low.put(0, blob({0.0f}), "0"));
  CHECK(low.put(3, blob({3.0f}), "3"));
  CHECK(low.size() == 2);
}

TEST_CASE(
    "a model cache resolves a carried model by its digest and a reference by version and "
    "digest",
    "[host]") {
  model_cache c{1};
  auto m = blob({1.0f, 2.0f});
  const auto d = model_digest(m);
  // Carried with another digest: refused, nothing kept.
  auto carried = m;
  CHECK(c.resolve(3, carried, "not the digest", false) == model_resolution::digest_mismatch);
  CHECK(c.size() == 0);
  // Carried with its digest: kept (sharing the buffer).
  CHECK(c.resolve(3, carried, d, false) == model_resolution::resolved);
  REQUIRE(c.find(3, d));
  CHECK(c.find(3, d)->shares_buffer_with(m));
  // A reference: the held buffer, shared.
  param_blob ref;
  CHECK(c.resolve(3, ref, d, true) == model_resolution::resolved);
  CHECK(ref.shares_buffer_with(m));
  // The right version with another digest, or another version: missing, the model untouched.
  param_blob wrong;
  CHECK(c.resolve(3, wrong, model_digest(blob({1.0f, 2.5f})), true) == model_resolution::missing);
  CHECK(wrong.empty());
  CHECK(c.resolve(2, wrong, d, true) == model_resolution::missing);
  // A task that refers to a model and carries one.
  auto both = blob({1.0f, 2.0f});
  CHECK(c.resolve(3, both, d, true) == model_resolution::refers_and_carries);
  // Window 1: versions 4 and 5 evict 3.
  auto m4 = blob({4.0f});
  auto m5 = blob({5.0f});
  CHECK(c.resolve(4, m4, model_digest(m4), false) == model_resolution::resolved);
  CHECK(c.resolve(3, ref = param_blob{}, d, true) == model_resolution::resolved);
  CHECK(c.resolve(5, m5, model_digest(m5), false) == model_resolution::resolved);
  param_blob evicted;
  CHECK(c.resolve(3, evicted, d, true) == model_resolution::missing);
  CHECK(c.size() == 2);
}
