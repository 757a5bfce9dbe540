#include "runtime/math/accumulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/math/rng.hpp"

using fedactor::weighted_accumulator;

TEST_CASE("accumulator folds weighted vectors into hand-computed sums and mean", "[math]") {
  weighted_accumulator acc(2);
  const float a[] = {1.0f, 2.0f};
  const float b[] = {3.0f, -1.0f};
  REQUIRE(acc.add(a, 2.0, 0.5));
  REQUIRE(acc.add(b, 1.0, 2.0));
  CHECK(acc.count() == 2);
  CHECK(acc.weight() == 3.0);
  CHECK(acc.scalar_sum() == 3.0);   // 2*0.5 + 1*2
  CHECK(acc.scalar_mean() == 1.0);  // 3 / 3
  auto m = acc.mean();
  REQUIRE(m.size() == 2);
  CHECK(m[0] == static_cast<float>(5.0 / 3.0));  // (2*1 + 1*3) / 3
  CHECK(m[1] == 1.0f);                           // (2*2 - 1) / 3
}

TEST_CASE("accumulator merge of two halves equals folding everything into one", "[math]") {
  weighted_accumulator left(3), right(3), all(3);
  const float x[][3] = {{0.25f, -1.5f, 4.0f}, {1.0f, 1.0f, 1.0f}, {-2.0f, 0.5f, 0.125f}};
  const double w[] = {50, 120, 199};
  left.add(x[0], w[0]);
  right.add(x[1], w[1]);
  right.add(x[2], w[2]);
  for (int i = 0; i < 3; ++i) all.add(x[i], w[i]);
  REQUIRE(left.merge(right));
  CHECK(left.serialize() == all.serialize());
  CHECK(left.count() == 3);
  // Σw = 369; first coordinate (50*0.25 + 120*1 - 199*2) / 369 = -265.5 / 369
  CHECK(left.mean()[0] == static_cast<float>(-265.5 / 369.0));
}

TEST_CASE("accumulator result is bit-identical whatever the arrival order", "[math]") {
  const size_t dim = 257, n = 40;
  std::vector<std::vector<float>> xs(n, std::vector<float>(dim));
  std::vector<double> ws(n);
  fedactor::rng r{1234};
  for (size_t i = 0; i < n; ++i) {
    for (auto& v : xs[i]) v = static_cast<float>(r.normal() * 0.01);
    ws[i] = 50 + r.below(150);
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  weighted_accumulator reference(dim);
  for (auto i : order) reference.add(xs[i].data(), ws[i]);
  for (int trial = 0; trial < 5; ++trial) {
    for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[r.below(i + 1)]);
    // Also a different grouping: two partial accumulators merged.
    weighted_accumulator a(dim), b(dim);
    for (size_t j = 0; j < n; ++j) (j % 3 == 0 ? a : b).add(xs[order[j]].data(), ws[order[j]]);
    b.merge(a);
    CHECK(b.serialize() == reference.serialize());
  }
}

TEST_CASE("accumulator rejects bad weights and non-finite values without folding", "[math]") {
  weighted_accumulator acc(2);
  const float ok[] = {1, 1};
  const float nan[] = {1, NAN};
  const float huge[] = {3e9f, 0};
  CHECK_FALSE(acc.add(ok, 0.0));
  CHECK_FALSE(acc.add(ok, -1.0));
  CHECK_FALSE(acc.add(ok, INFINITY));
  CHECK_FALSE(acc.add(nan, 1.0));
  CHECK_FALSE(acc.add(huge, 1.0));
  CHECK_FALSE(acc.add(ok, 1.0, NAN));
  CHECK(acc.empty());
  CHECK(acc.weight() == 0);
  CHECK(acc.mean() == std::vector<float>{0, 0});
}

TEST_CASE("accumulator survives its wire form and rejects malformed buffers", "[math]") {
  weighted_accumulator acc(4);
  const float x[] = {0.5f, -0.25f, 8.0f, 1e-6f};
  acc.add(x, 77.0, 1.25);
  auto bytes = acc.serialize();
  auto back = weighted_accumulator::deserialize(bytes.data(), bytes.size());
  REQUIRE(back);
  CHECK(back->serialize() == bytes);
  CHECK(back->mean() == acc.mean());
  CHECK_FALSE(weighted_accumulator::deserialize(bytes.data(), bytes.size() - 1));
  CHECK_FALSE(weighted_accumulator::deserialize(bytes.data(), 10));
  auto wrong_dim = bytes;
  wrong_dim[0] = 9;
  CHECK_FALSE(weighted_accumulator::deserialize(wrong_dim.data(), wrong_dim.size()));
  weighted_accumulator other(3);
  const float y[] = {1, 2, 3};
  other.add(y, 1.0);
  CHECK_FALSE(acc.merge(other));
}

TEST_CASE("accumulator sums stay exact past max_pending folds and for large terms", "[math]") {
  // Small terms go through 64-bit lanes that are settled into the 128-bit sums every
  // max_pending folds; an update with a large term (|w·x| >= 2^19) takes the exact slow
  // rounding. The sums must be the exact integers: here every term is an exact multiple of
  // 2^-32, so the expected sums are known.
  const uint64_t n = 2 * weighted_accumulator::max_pending + 77;
  const __int128 unit = __int128{1} << 32;
  auto sum_at = [](const std::vector<char>& bytes, size_t i) {
    __int128 v = 0;
    std::memcpy(&v, bytes.data() + 48 + 16 * i, 16);
    return v;
  };
  const float small[] = {-1234.5f, 0.75f};  // w·x = -244431, 148.5
  const float large[] = {-1234.5f, 3e6f};   // w·x = -244431, 5.94e8 (slow path)
  weighted_accumulator fast(2), slow(2), mixed(2);
  for (uint64_t k = 0; k < n; ++k) {
    REQUIRE(fast.add(small, 198.0));
    REQUIRE(slow.add(large, 198.0));
    REQUIRE(mixed.add(k % 3 ? small : large, 198.0));
  }
  auto fb = fast.serialize(), sb = slow.serialize(), mb = mixed.serialize();
  CHECK(sum_at(fb, 0) == static_cast<__int128>(n) * -244431 * unit);
  CHECK(sum_at(fb, 1) == static_cast<__int128>(n) * 297 * unit / 2);
  CHECK(sum_at(sb, 1) == static_cast<__int128>(n) * 594000000 * unit);
  const __int128 n_large = (n + 2) / 3, n_small = n - n_large;
  CHECK(sum_at(mb, 0) == static_cast<__int128>(n) * -244431 * unit);
  CHECK(sum_at(mb, 1) == n_small * 297 * unit / 2 + n_large * 594000000 * unit);
  CHECK(fast.mean()[1] == 0.75f);
  // A rejected update in between leaves no trace in the lanes.
  weighted_accumulator with_reject(2);
  const float bad[] = {1.0f, NAN};
  for (uint64_t k = 0; k < n; ++k) {
    REQUIRE(with_reject.add(small, 198.0));
    if (k % 1000 == 0) REQUIRE_FALSE(with_reject.add(bad, 198.0));
  }
  CHECK(with_reject.serialize() == fb);
  // Merged and reloaded halves agree with the whole.
  auto reloaded = weighted_accumulator::deserialize(mb.data(), mb.size());
  REQUIRE(reloaded);
  CHECK(reloaded->serialize() == mb);
  weighted_accumulator first(2), second(2);
  for (uint64_t k = 0; k < n; ++k) (k < n / 2 ? first : second).add(k % 3 ? small : large, 198.0);
  REQUIRE(first.merge(second));
  CHECK(first.serialize() == mb);
}

TEST_CASE("accumulator mean is the same before and after a serialization round trip", "[math]") {
  // Before: every sum still in its 64-bit lane (the vectorised mean); after: settled sums.
  const size_t dim = 1000;
  fedactor::rng r{77};
  weighted_accumulator acc(dim);
  std::vector<float> x(dim);
  for (int k = 0; k < 30; ++k) {
    for (auto& v : x) v = static_cast<float>(r.normal() * 0.05);
    REQUIRE(acc.add(x.data(), 50.0 + k, 1.0));
  }
  auto bytes = acc.serialize();
  auto back = weighted_accumulator::deserialize(bytes.data(), bytes.size());
  REQUIRE(back);
  CHECK(acc.mean() == back->mean());
  weighted_accumulator merged(dim);
  REQUIRE(merged.merge(acc));
  CHECK(merged.mean() == acc.mean());
}

TEST_CASE("accumulator add_difference folds x - base exactly as add of the float difference",
          "[math]") {
  // Hand-computed: 2·(3 − 1) + 1·(0.5 − 2) = 2.5 and 2·(−1 − 1) + 1·(4 − 0) = 0; weight 3.
  weighted_accumulator acc(2);
  const float x1[] = {3.0f, -1.0f}, b1[] = {1.0f, 1.0f};
  const float x2[] = {0.5f, 4.0f}, b2[] = {2.0f, 0.0f};
  REQUIRE(acc.add_difference(x1, b1, 2.0, 0.25));
  REQUIRE(acc.add_difference(x2, b2, 1.0));
  auto m = acc.mean();
  CHECK(m[0] == static_cast<float>(2.5 / 3.0));
  CHECK(m[1] == 0.0f);
  CHECK(acc.scalar_sum() == 0.5);
  // Random values, including terms too large for the fast lanes and more than max_pending
  // folds: the same bytes as materialising Δ in float and folding it with add().
  fedactor::rng r{99};
  const size_t dim = 37;
  weighted_accumulator fused(dim), plain(dim);
  std::vector<float> x(dim), base(dim), delta(dim);
  for (uint32_t k = 0; k < weighted_accumulator::max_pending + 10; ++k) {
    const double big = k % 1000 == 0 ? 1e6 : 1.0;
    for (size_t i = 0; i < dim; ++i) {
      x[i] = static_cast<float>((r.uniform() - 0.5) * big);
      base[i] = static_cast<float>(r.uniform() - 0.5);
      delta[i] = x[i] - base[i];
    }
    const double w = 1 + (k % 7);
    REQUIRE(fused.add_difference(x.data(), base.data(), w, 0.5));
    REQUIRE(plain.add(delta.data(), w, 0.5));
  }
  CHECK(fused.serialize() == plain.serialize());
  CHECK(fused.mean() == plain.mean());
}

TEST_CASE("accumulator add_difference refuses a non-finite or out-of-range difference untouched",
          "[math]") {
  weighted_accumulator acc(3);
  const float x[] = {1.0f, 2.0f, 3.0f}, base[] = {0.0f, 0.0f, 0.0f};
  REQUIRE(acc.add_difference(x, base, 1.0));
  const auto before = acc.serialize();
  const float inf_x[] = {1.0f, INFINITY, 3.0f};
  CHECK_FALSE(acc.add_difference(inf_x, base, 1.0));
  const float nan_base[] = {0.0f, 0.0f, NAN};
  CHECK_FALSE(acc.add_difference(x, nan_base, 1.0));
  const float huge[] = {3e9f, 0.0f, 0.0f};  // 3e9 > max_term
  CHECK_FALSE(acc.add_difference(huge, base, 1.0));
  CHECK_FALSE(acc.add_difference(x, base, 0.0));
  CHECK(acc.serialize() == before);
  CHECK(acc.count() == 1);
}

TEST_CASE("a cleared accumulator is empty and folds like a new one", "[math]") {
  weighted_accumulator acc(4), fresh(4);
  const float big[] = {1e6f, -2.0f, 3.0f, 0.5f};  // a large term: settled sums, not lanes
  const float small[] = {1.0f, 2.0f, 3.0f, 4.0f};
  REQUIRE(acc.add(big, 1000.0, 1.0));
  REQUIRE(acc.add(small, 2.0));
  acc.clear();
  CHECK(acc.empty());
  CHECK(acc.dim() == 4);
  CHECK(acc.weight() == 0);
  CHECK(acc.mean() == std::vector<float>(4, 0.0f));
  CHECK(acc.serialize() == fresh.serialize());
  REQUIRE(acc.add(small, 2.0, 1.5));
  REQUIRE(fresh.add(small, 2.0, 1.5));
  CHECK(acc.serialize() == fresh.serialize());
  CHECK(acc.mean() == fresh.mean());
}

namespace {

// An accumulator's wire form (u64 dim, u64 count, i128 weight, i128 scalar, dim × i128 sums),
// as another node may send it.
std::vector<char> wire_accumulator(uint64_t count, __int128 weight, __int128 sum) {
  std::vector<char> out(64);
  const uint64_t dim = 1;
  const __int128 scalar = 0;
  std::memcpy(out.data(), &dim, 8);
  std::memcpy(out.data() + 8, &count, 8);
  std::memcpy(out.data() + 16, &weight, 16);
  std::memcpy(out.data() + 32, &scalar, 16);
  std::memcpy(out.data() + 48, &sum, 16);
  return out;
}

}  // namespace

// Found by fuzz/accumulator.cpp (fuzz/corpus/accumulator/regression-merge-overflow): two
// aggregates read from the wire whose sums add past 2^127 were merged with a signed overflow.
TEST_CASE("accumulator merge refuses sums that would overflow and leaves the target unchanged",
          "[math]") {
  const __int128 max = ~(static_cast<unsigned __int128>(1) << 127);
  auto a = weighted_accumulator::deserialize(wire_accumulator(1, 1, max - 5).data(), 64);
  auto b = weighted_accumulator::deserialize(wire_accumulator(1, 1, 10).data(), 64);
  auto c = weighted_accumulator::deserialize(wire_accumulator(1, 1, 5).data(), 64);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  const auto before = a->serialize();
  CHECK_FALSE(a->merge(*b));
  CHECK(a->serialize() == before);
  CHECK(a->count() == 1);
  // Exactly up to the largest sum: accepted.
  REQUIRE(a->merge(*c));
  CHECK(a->count() == 2);
  CHECK(a->serialize() == wire_accumulator(2, 2, max));
  // The weights overflow too.
  auto heavy = weighted_accumulator::deserialize(wire_accumulator(1, max, 0).data(), 64);
  REQUIRE(heavy);
  CHECK_FALSE(heavy->merge(*b));
  CHECK(heavy->count() == 1);
  // An empty one (no dim yet) whose scalar sum is at the limit: refused, still without a dim.
  std::vector<char> empty(48, 0);
  std::memcpy(empty.data() + 32, &max, 16);
  auto blank = weighted_accumulator::deserialize(empty.data(), empty.size());
  REQUIRE(blank);
  auto scalar_one = wire_accumulator(1, 1, 0);
  const __int128 one = 1;
  std::memcpy(scalar_one.data() + 32, &one, 16);
  auto d = weighted_accumulator::deserialize(scalar_one.data(), 64);
  REQUIRE(d);
  CHECK_FALSE(blank->merge(*d));
  CHECK(blank->dim() == 0);
  CHECK(blank->serialize() == empty);
}
