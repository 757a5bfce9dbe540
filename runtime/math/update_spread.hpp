#pragma once

// The spread of a round's client updates around their weighted mean, for the adaptive sample
// size (docs/selection.md). With weights w_i (the samples), the weighted mean
// mu = sum w_i D_i / W (W = sum w_i) is what the round's exact aggregate already holds; the
// spread needs one more sum, S = sum w_i ||D_i||^2, a scalar per client that the edges report
// (runtime/protocol/client_report.hpp) and the server adds up in client id order (so the
// result does not depend on which edge answered first). Then
//     var = S / W - ||mu||^2        (the weighted trace of the updates' covariance)
//     relative variance = var / (n ||mu||^2)
// is the squared relative standard error of the aggregate as an estimate of the mean update
// from n clients. O(1) memory beyond the mean; no update is kept. The subtraction loses
// relative precision only when var << ||mu||^2, i.e. far below any useful target.

#include <cstdint>

namespace fedactor {

class update_spread {
 public:
  // One update of weight w (> 0) and squared norm sq_norm.
  void add(double w, double sq_norm) {
    weight_ += w;
    weighted_sq_ += w * sq_norm;
    ++count_;
  }
  // Another part's sums (another edge's, say): the sums add.
  void merge(const update_spread& o) {
    weight_ += o.weight_;
    weighted_sq_ += o.weighted_sq_;
    count_ += o.count_;
  }

  double weight() const { return weight_; }
  double weighted_sq() const { return weighted_sq_; }  // S
  uint64_t count() const { return count_; }
  // Sums saved before (checkpoints): weight W, S and the count n.
  static update_spread from_sums(double weight, double weighted_sq, uint64_t count) {
    update_spread s;
    s.weight_ = weight;
    s.weighted_sq_ = weighted_sq;
    s.count_ = count;
    return s;
  }

  // var = S / W - ||mu||^2, at least 0 (0 without updates). mean_sq_norm = ||mu||^2.
  double variance(double mean_sq_norm) const;
  // var / (n ||mu||^2); 0 without updates or when var is 0; +inf when mu is 0 and var is not.
  double relative_variance(double mean_sq_norm) const;

 private:
  double weight_ = 0;
  double weighted_sq_ = 0;
  uint64_t count_ = 0;
};

}  // namespace fedactor
