#include "runtime/math/accumulator.hpp"

#include <cmath>
#include <cstring>

namespace fedactor {

namespace {

constexpr double scale = 4294967296.0;  // 2^32
constexpr double inv_scale = 1.0 / 4294967296.0;

// Rounds v·2^32 to the nearest integer; v must satisfy |v| <= max_term.
inline int64_t to_fixed(double v) {
  return std::llrint(v * scale);
}

// The double nearest to v; the same value as static_cast<double>(v), faster when v fits in
// 64 bits (the usual case): both conversions round correctly.
inline double to_double(__int128 v) {
  const auto narrow = static_cast<int64_t>(v);
  return narrow == v ? static_cast<double>(narrow) : static_cast<double>(v);
}

inline double from_fixed(__int128 v) {
  return static_cast<double>(v) * inv_scale;
}

// For |y| < 2^51, y + 1.5·2^52 lies in [2^52, 2^53), where doubles are the integers: the
// addition rounds y to the nearest integer (ties to even, as llrint), which the low bits of
// the sum then hold. Exact, branch-free and vectorisable.
constexpr double magic = 6755399441055744.0;  // 1.5·2^52
constexpr int64_t magic_bits = 0x4338000000000000;
constexpr double fast_limit = 2251799813685248.0;  // 2^51

// Adds (or takes back) the rounded terms x[i]·ws to the lanes, ws = w·2^32
// (so a term is w·x[i] in fixed-point units); counts the terms out of range or NaN (bad)
// and those too large for the fast rounding (slow), whose lane values are then garbage, to
// be taken back. Lanes are integers mod 2^64: taking back restores them exactly. No fused
// multiply-add on any path: the product is rounded, then rounded to an integer, exactly as
// llrint(w·x·2^32).
// The loop of fold_lanes; with Diff, the value folded is the float difference x[i] - base[i]
// (rounded to float first, exactly as a materialised Δ would be).
template <bool Diff>
inline __attribute__((always_inline)) void fold_loop(const float* x, const float* base, size_t n,
                                                     double ws, bool take_back, int64_t* lane,
                                                     uint64_t& bad, uint64_t& slow) {
  const double lim = weighted_accumulator::max_term * scale;
  const uint64_t negate = take_back ? ~uint64_t{0} : 0;  // (t ^ m) - m is -t for m = ~0
  uint64_t b = 0, l = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = Diff ? x[i] - base[i] : x[i];
    const double y = static_cast<double>(v) * ws;
    const double r = y + magic;
    uint64_t bits;
    std::memcpy(&bits, &r, sizeof(bits));
    const uint64_t t = ((bits - static_cast<uint64_t>(magic_bits)) ^ negate) - negate;
    lane[i] = static_cast<int64_t>(static_cast<uint64_t>(lane[i]) + t);
    const double a = std::fabs(y);
    b += !(a <= lim);
    l += !(a < fast_limit);
  }
  bad = b;
  slow = l;
}

__attribute__((target_clones("avx2", "default"))) void fold_lanes(const float* x, size_t n,
                                                                  double ws, bool take_back,
                                                                  int64_t* lane, uint64_t& bad,
                                                                  uint64_t& slow) {
  fold_loop<false>(x, nullptr, n, ws, take_back, lane, bad, slow);
}

__attribute__((target_clones("avx2", "default"))) void fold_lanes_diff(const float* x,
                                                                       const float* base, size_t n,
                                                                       double ws, bool take_back,
                                                                       int64_t* lane, uint64_t& bad,
                                                                       uint64_t& slow) {
  fold_loop<true>(x, base, n, ws, take_back, lane, bad, slow);
}

// out[i] = lane[i] / w, rounded to float: the same value as through to_double (an int64
// converts to the nearest double either way), vectorised.
__attribute__((target_clones("arch=x86-64-v4", "default"))) void lane_means(const int64_t* lane,
                                                                            size_t n, double w,
                                                                            float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<double>(lane[i]) / w);
}

}  // namespace

void weighted_accumulator::settle() {
  if (pending_ == 0) return;
  for (size_t i = 0; i < sums_.size(); ++i) {
    sums_[i] += lane_[i];
    lane_[i] = 0;
  }
  pending_ = 0;
  settled_ = true;
}

double weighted_accumulator::weight() const {
  return from_fixed(weight_);
}

double weighted_accumulator::scalar_sum() const {
  return from_fixed(scalar_);
}

bool weighted_accumulator::add(const float* x, double w, double s) {
  return fold(x, nullptr, w, s);
}

bool weighted_accumulator::add_as(const float* x, double w, double s, uint64_t updates) {
  if (updates == 0 || !fold(x, nullptr, w, s)) return false;
  count_ += updates - 1;
  return true;
}

bool weighted_accumulator::add_difference(const float* x, const float* base, double w, double s) {
  return fold(x, base, w, s);
}

bool weighted_accumulator::fold(const float* x, const float* base, double w, double s) {
  if (!(w > 0) || !std::isfinite(w) || w > max_term || !std::isfinite(s)) return false;
  const double ws = w * s;
  if (std::fabs(ws) > max_term) return false;
  const size_t n = sums_.size();
  // w·x·2^32 equals (w·2^32)·x exactly (scaling by a power of two), so both the range check
  // |w·x| <= max_term and the rounding work on y = x·(w·2^32). One pass folds the terms
  // into the lanes and checks them; an update with a bad or a large term is taken back out,
  // so that a rejected update leaves no trace.
  const double w_scaled = w * scale;
  if (pending_ >= max_pending) settle();
  if (lane_.size() != n) lane_.assign(n, 0);
  auto pass = [&](bool take_back, uint64_t& bad, uint64_t& slow) {
    if (base)
      fold_lanes_diff(x, base, n, w_scaled, take_back, lane_.data(), bad, slow);
    else
      fold_lanes(x, n, w_scaled, take_back, lane_.data(), bad, slow);
  };
  uint64_t bad = 0, slow = 0;
  pass(false, bad, slow);
  if (bad != 0 || slow != 0) {
    uint64_t ignored_bad = 0, ignored_slow = 0;
    pass(true, ignored_bad, ignored_slow);
    if (bad != 0) return false;
    for (size_t i = 0; i < n; ++i) {
      const float v = base ? x[i] - base[i] : x[i];
      sums_[i] += to_fixed(w * static_cast<double>(v));
    }
    settled_ = true;
  } else {
    ++pending_;
  }
  weight_ += to_fixed(w);
  scalar_ += to_fixed(ws);
  ++count_;
  return true;
}

void weighted_accumulator::clear() {
  std::fill(sums_.begin(), sums_.end(), __int128{0});
  std::fill(lane_.begin(), lane_.end(), int64_t{0});
  pending_ = 0;
  settled_ = false;
  weight_ = 0;
  scalar_ = 0;
  count_ = 0;
}

bool weighted_accumulator::merge(const weighted_accumulator& other) {
  if (other.count_ == 0) return true;
  // An aggregate read from another node can hold any sums: one that would take a sum out of
  // the 128-bit range is refused whole, and nothing is folded (found by fuzz/accumulator.cpp).
  __int128 ignored;
  if (__builtin_add_overflow(weight_, other.weight_, &ignored) ||
      __builtin_add_overflow(scalar_, other.scalar_, &ignored))
    return false;
  if (count_ == 0 && sums_.empty()) sums_.assign(other.sums_.size(), 0);
  if (other.sums_.size() != sums_.size()) return false;
  for (size_t i = 0; i < sums_.size(); ++i)
    if (__builtin_add_overflow(total(i), other.total(i), &ignored)) return false;
  for (size_t i = 0; i < sums_.size(); ++i) sums_[i] += other.total(i);
  settled_ = true;
  weight_ += other.weight_;
  scalar_ += other.scalar_;
  count_ += other.count_;
  return true;
}

std::vector<float> weighted_accumulator::mean() const {
  std::vector<float> out(sums_.size());
  mean_into(out.data());
  return out;
}

void weighted_accumulator::mean_into(float* out) const {
  if (weight_ == 0) {
    std::fill(out, out + sums_.size(), 0.0f);
    return;
  }
  // Both sums carry the same 2^32 scale: it cancels in the quotient.
  const double w = static_cast<double>(weight_);
  if (!settled_ && lane_.size() == sums_.size()) {
    lane_means(lane_.data(), lane_.size(), w, out);  // every sum is its lane
    return;
  }
  for (size_t i = 0; i < sums_.size(); ++i) out[i] = static_cast<float>(to_double(total(i)) / w);
}

void weighted_accumulator::sum_into(double* out) const {
  for (size_t i = 0; i < sums_.size(); ++i) out[i] = from_fixed(total(i));
}

double weighted_accumulator::scalar_mean() const {
  if (weight_ == 0) return 0;
  return static_cast<double>(scalar_) / static_cast<double>(weight_);
}

// Layout: u64 dim, u64 count, i128 weight, i128 scalar, dim × i128 sums.
std::vector<char> weighted_accumulator::serialize() const {
  const uint64_t dim = sums_.size();
  std::vector<char> out(16 + 32 + dim * 16);
  char* p = out.data();
  std::memcpy(p, &dim, 8);
  std::memcpy(p + 8, &count_, 8);
  std::memcpy(p + 16, &weight_, 16);
  std::memcpy(p + 32, &scalar_, 16);
  for (size_t i = 0; i < dim; ++i) {
    const __int128 v = total(i);
    std::memcpy(p + 48 + i * 16, &v, 16);
  }
  return out;
}

std::optional<weighted_accumulator> weighted_accumulator::deserialize(const char* data,
                                                                      size_t size) {
  if (size < 48) return std::nullopt;
  uint64_t dim = 0;
  std::memcpy(&dim, data, 8);
  if (dim > (size - 48) / 16 || size != 48 + dim * 16) return std::nullopt;
  weighted_accumulator acc(dim);
  std::memcpy(&acc.count_, data + 8, 8);
  std::memcpy(&acc.weight_, data + 16, 16);
  std::memcpy(&acc.scalar_, data + 32, 16);
  if (dim > 0) std::memcpy(acc.sums_.data(), data + 48, dim * 16);
  acc.settled_ = true;
  if (acc.weight_ < 0 || (acc.count_ == 0) != (acc.weight_ == 0)) return std::nullopt;
  return acc;
}

}  // namespace fedactor
