#pragma once

// Update validation and robust aggregation at the edge (scenario section `robust`,
// docs/robustness.md): an L2 norm bound on each client's Δ (clip it to the bound, or reject
// the update), and the rule that turns the edge's accepted Δs into its result: the exact
// streaming weighted mean (FedAvg), or a rule that needs every Δ at once — coordinate-wise
// median, trimmed mean, (multi-)Krum — for which the edge holds its k accepted Δs (memory
// k × model floats). Travels in every edge_ins with the round's bound (the server's, fixed or
// adaptive). Actor-free.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fedactor {

enum class norm_bound_mode : uint8_t {
  off = 0,     // no bound
  clip = 1,    // Δ scaled down to the bound when its norm is above it
  reject = 2,  // an update whose Δ norm is above the bound counts as invalid_update
};

enum class robust_rule_kind : uint8_t {
  mean = 0,          // weighted by sample count, streaming (FedAvg)
  median = 1,        // coordinate-wise median
  trimmed_mean = 2,  // coordinate-wise trimmed mean, trim fraction β at each end
  krum = 3,          // (multi-)Krum: mean of the krum_m lowest-scored updates
};

// "off", "clip", "reject"; "mean", "median", "trimmed_mean", "krum"; "?" outside the enum.
const char* to_string(norm_bound_mode x);
const char* to_string(robust_rule_kind x);

// What an edge does with a round's updates.
struct robust_settings {
  norm_bound_mode norm_mode = norm_bound_mode::off;
  double norm_bound = 0;  // this round's L2 bound on Δ (> 0 when norm_mode is not off)
  robust_rule_kind rule = robust_rule_kind::mean;
  double trim = 0.1;    // trimmed_mean: β in [0, 0.5)
  uint32_t krum_f = 0;  // krum: Byzantine updates tolerated
  uint32_t krum_m = 1;  // krum: updates averaged (1 = Krum, more = multi-Krum)

  // Anything but the plain streaming mean of unchecked norms.
  bool active() const { return norm_mode != norm_bound_mode::off || holds_updates(); }
  // The rule needs the updates held (not mean).
  bool holds_updates() const { return rule != robust_rule_kind::mean; }
};

bool operator==(const robust_settings& a, const robust_settings& b);

// What the norm bound did to a set of updates (an edge's round, a record).
struct norm_bound_counts {
  uint32_t within = 0;    // updates whose Δ norm was <= the bound (the adaptive bound's b̄)
  uint32_t clipped = 0;   // scaled down to the bound (clip)
  uint32_t rejected = 0;  // refused (reject; also counted as invalid_update)

  void merge(const norm_bound_counts& o) {
    within += o.within;
    clipped += o.clipped;
    rejected += o.rejected;
  }
};

// The rule's result over the held updates xs (each dim values, xs not empty); rule mean: the
// unweighted mean. Written to out (dim values).
void apply_robust_rule(const robust_settings& s, const std::vector<const float*>& xs, size_t dim,
                       float* out);

// The settings' own check, one line naming the problem, or empty: a bound > 0 and finite when
// norm_mode is on, trim in [0, 0.5), krum_m >= 1. (Values from another process go through it.)
const char* robust_settings_problem(const robust_settings& s);

}  // namespace fedactor
