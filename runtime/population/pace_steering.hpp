#pragma once

// Pace steering (selection.pace, docs/selection.md "Pace steering"): a sync server keeps its
// round size as availability swings by over-selecting in proportion to the failures it saw.
// f̂ is an exponentially weighted mean of the per-round failure rate, starting at 0:
//     after a round in which `attempted` > 0 clients took a task (selected minus those dropped
//     as over-selected or past the deadline) and `failed` of them failed (any failure code,
//     going offline included):
//         f̂ <- (1 − ewma) · f̂ + ewma · failed / attempted
//     (a round in which nobody took a task leaves f̂ unchanged), and the next round asks for
//         factor = min(max_factor, 1 / (1 − f̂))     (max_factor when f̂ = 1)
//         wanted = ceil(k · factor)                  (k = the target round size)
// clients, of which the first k to finish are aggregated (the rest dropped and counted).

#include <cstdint>

namespace fedactor {

class pace_steering {
 public:
  // ewma in (0, 1], max_factor >= 1.
  pace_steering(double ewma, double max_factor);

  double failure_rate() const { return rate_; }
  double factor() const;
  uint32_t wanted(uint32_t k) const;
  void observe(uint32_t attempted, uint32_t failed);
  // Checkpoint restore: f̂ in [0, 1].
  void set_failure_rate(double f) { rate_ = f; }

 private:
  double ewma_;
  double max_factor_;
  double rate_ = 0;
};

}  // namespace fedactor
