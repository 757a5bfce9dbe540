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

inline double from_fixed(__int128 v) {
  return static_cast<double>(v) * inv_scale;
}

}  // namespace

double weighted_accumulator::weight() const {
  return from_fixed(weight_);
}

double weighted_accumulator::scalar_sum() const {
  return from_fixed(scalar_);
}

bool weighted_accumulator::add(const float* x, double w, double s) {
  if (!(w > 0) || !std::isfinite(w) || w > max_term || !std::isfinite(s)) return false;
  const double ws = w * s;
  if (std::fabs(ws) > max_term) return false;
  const size_t n = sums_.size();
  // Validate first so that a rejected update leaves no partial trace.
  for (size_t i = 0; i < n; ++i) {
    const double t = w * static_cast<double>(x[i]);
    if (!(std::fabs(t) <= max_term)) return false;  // also catches NaN
  }
  for (size_t i = 0; i < n; ++i) sums_[i] += to_fixed(w * static_cast<double>(x[i]));
  weight_ += to_fixed(w);
  scalar_ += to_fixed(ws);
  ++count_;
  return true;
}

bool weighted_accumulator::merge(const weighted_accumulator& other) {
  if (other.count_ == 0) return true;
  if (count_ == 0 && sums_.empty()) sums_.assign(other.sums_.size(), 0);
  if (other.sums_.size() != sums_.size()) return false;
  for (size_t i = 0; i < sums_.size(); ++i) sums_[i] += other.sums_[i];
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
  for (size_t i = 0; i < sums_.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(sums_[i]) / w);
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
  if (dim > 0) std::memcpy(p + 48, sums_.data(), dim * 16);
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
  if (acc.weight_ < 0 || (acc.count_ == 0) != (acc.weight_ == 0)) return std::nullopt;
  return acc;
}

}  // namespace fedactor
