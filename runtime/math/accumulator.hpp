#pragma once

// Streaming weighted accumulator: folds weighted vectors one at a time, holding only
// Σ w·x, Σ w and a count (memory O(dim), not O(updates × dim)), and merges with another.
//
// Sums are exact: every term w·x is rounded once to a fixed-point integer (2^-32 units)
// and added in 128-bit integers. Integer addition is associative, so the result is
// bit-identical whatever the arrival order, the grouping into edges or the thread count.
// (add() keeps recent terms in carry-free 64-bit lanes that vectorise, and settles them into
// the 128-bit sums before they could overflow: the same integers, only faster.)

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

class weighted_accumulator {
 public:
  // Largest |w·x| a single term may have (fixed point with 31 integer bits).
  static constexpr double max_term = 2147483647.0;

  weighted_accumulator() = default;
  explicit weighted_accumulator(size_t dim) : sums_(dim, 0) {}

  size_t dim() const { return sums_.size(); }
  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double weight() const;      // Σ w
  double scalar_sum() const;  // Σ w·s of the scalars folded alongside (e.g. loss)

  // Folds w·x (x has dim() values) and w·s for the side scalar s. Returns false and folds
  // nothing when w is not positive and finite, or some x or s is not finite, or a term
  // |w·x| exceeds max_term.
  bool add(const float* x, double w, double s = 0);

  // Folds w·(x − base), the difference taken in float (as a materialised float Δ would be),
  // in the same single pass as add(): bit-identical to add() of that Δ, without writing it.
  bool add_difference(const float* x, const float* base, double w, double s = 0);

  // As add(), but the term stands for `updates` updates (>= 1) in count(): a robust rule's
  // result over that many held updates (runtime/strategy/robust_rule.hpp).
  bool add_as(const float* x, double w, double s, uint64_t updates);

  // Back to empty, keeping dim() and the memory.
  void clear();

  // Folds the other accumulator in (exact); false, folding nothing, on another dim or overflow.
  bool merge(const weighted_accumulator& other);

  // Σ w·x / Σ w, in double then rounded to float; dim() zeros when empty.
  std::vector<float> mean() const;
  void mean_into(float* out) const;

  // Σ w·x itself (the exact fixed-point sum, rounded once to double); dim() values.
  void sum_into(double* out) const;

  // Σ w·s / Σ w for the side scalar; 0 when empty.
  double scalar_mean() const;

  // Wire form (raw little-endian bytes) and back; nullopt for a malformed buffer.
  std::vector<char> serialize() const;
  static std::optional<weighted_accumulator> deserialize(const char* data, size_t size);

  // Folds held in the 64-bit lanes before they are settled into the 128-bit sums.
  static constexpr uint32_t max_pending = 4096;

 private:
  // Sum i in full: settled part plus the lane.
  __int128 total(size_t i) const { return lane_.empty() ? sums_[i] : sums_[i] + lane_[i]; }
  // Moves the lanes into sums_ and clears them.
  void settle();
  // add() (base null) or add_difference().
  bool fold(const float* x, const float* base, double w, double s);

  std::vector<__int128> sums_;  // settled sums
  // Terms folded since the last settle, one int64 per coordinate. Only terms below 2^51
  // fixed-point units go there (larger ones go straight into sums_), so max_pending of them
  // cannot overflow.
  std::vector<int64_t> lane_;
  uint32_t pending_ = 0;
  bool settled_ = false;  // sums_ may hold non-zero values (else every sum is in lane_)
  __int128 weight_ = 0;
  __int128 scalar_ = 0;
  uint64_t count_ = 0;
};

}  // namespace fedactor
