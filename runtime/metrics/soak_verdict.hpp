#pragma once

// The verdict of a soak (bench/soak.cpp, docs/benchmarks.md): a long run sampled every so many
// updates is flat when, after its warm-up, the process's peak RSS grew by at most a tolerance
// and no counter drifted upward. Actor-free and independent of what is measured.
//
// Warm-up: the samples taken before `warmup_fraction` of the run's updates. Peak RSS (VmHWM)
// is flat when its value at the end is at most (1 + rss_tolerance) × its value at the first
// sample after the warm-up. A counter (each sample holds its largest value over the interval
// the sample covers) drifts when its largest value over the last half of the samples after
// the warm-up exceeds its largest value over the first half by more than counter_slack of it
// (and by at least one): a bounded counter that only wanders (tasks in flight, held answers,
// model versions kept for staleness) stays within its first half's range, a leak keeps
// climbing.

#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

struct soak_sample {
  uint64_t updates = 0;            // updates folded so far
  uint64_t rss_bytes = 0;          // VmRSS when sampled
  uint64_t peak_rss_bytes = 0;     // VmHWM when sampled
  std::vector<uint64_t> counters;  // the largest value of each counter over the interval
};

struct soak_limits {
  double warmup_fraction = 0.1;
  double rss_tolerance = 0.05;
  double counter_slack = 0.05;
};

struct counter_range {
  std::string name;
  uint64_t first_half_max = 0;
  uint64_t last_half_max = 0;
  bool drifting = false;
};

struct soak_verdict {
  bool flat = false;         // enough samples, peak RSS within the tolerance, no counter drifting
  std::string problem;       // why not flat, in one line (empty when flat)
  size_t warmup_sample = 0;  // index of the first sample after the warm-up
  uint64_t peak_rss_at_warmup = 0;
  uint64_t peak_rss_at_end = 0;
  double peak_rss_growth = 0;  // peak_rss_at_end / peak_rss_at_warmup - 1
  std::vector<counter_range> counters;
};

// `names` names the counters of every sample (all samples must have that many). At least four
// samples after the warm-up are needed (two per half); fewer gives a verdict that is not flat,
// saying so.
soak_verdict judge_soak(const std::vector<soak_sample>& samples,
                        const std::vector<std::string>& names, const soak_limits& limits = {});

}  // namespace fedactor
