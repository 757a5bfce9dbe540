// The flatness verdict of a soak (see soak_verdict.hpp).

#include "runtime/metrics/soak_verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fedactor {

soak_verdict judge_soak(const std::vector<soak_sample>& samples,
                        const std::vector<std::string>& names, const soak_limits& limits) {
  soak_verdict v;
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].counters.size() != names.size()) {
      v.problem = "sample " + std::to_string(i) + " has " +
                  std::to_string(samples[i].counters.size()) + " counters, expected " +
                  std::to_string(names.size());
      return v;
    }
  const double total = samples.empty() ? 0.0 : static_cast<double>(samples.back().updates);
  const double warm = limits.warmup_fraction * total;
  while (v.warmup_sample < samples.size() &&
         static_cast<double>(samples[v.warmup_sample].updates) < warm)
    ++v.warmup_sample;
  const size_t after = samples.size() - v.warmup_sample;
  if (after < 4) {
    v.problem = std::to_string(after) + " samples after the warm-up, at least 4 needed";
    return v;
  }
  v.peak_rss_at_warmup = samples[v.warmup_sample].peak_rss_bytes;
  v.peak_rss_at_end = samples.back().peak_rss_bytes;
  for (size_t i = v.warmup_sample; i < samples.size(); ++i)
    v.peak_rss_at_end = std::max(v.peak_rss_at_end, samples[i].peak_rss_bytes);
  v.peak_rss_growth =
      v.peak_rss_at_warmup > 0
          ? static_cast<double>(v.peak_rss_at_end) / static_cast<double>(v.peak_rss_at_warmup) - 1.0
          : 0.0;
  const size_t mid = v.warmup_sample + after / 2;
  for (size_t c = 0; c < names.size(); ++c) {
    counter_range r;
    r.name = names[c];
    for (size_t i = v.warmup_sample; i < samples.size(); ++i) {
      auto& m = i < mid ? r.first_half_max : r.last_half_max;
      m = std::max(m, samples[i].counters[c]);
    }
    const double slack =
        std::max(1.0, std::floor(limits.counter_slack * static_cast<double>(r.first_half_max)));
    r.drifting =
        static_cast<double>(r.last_half_max) > static_cast<double>(r.first_half_max) + slack;
    v.counters.push_back(r);
  }
  const bool rss_ok = v.peak_rss_growth <= limits.rss_tolerance;
  if (!rss_ok) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "peak RSS grew by %.1f %% after the warm-up (at most %.1f %%)",
                  100.0 * v.peak_rss_growth, 100.0 * limits.rss_tolerance);
    v.problem = buf;
  }
  for (const auto& r : v.counters)
    if (r.drifting) {
      const std::string line = "counter " + r.name + " drifts: at most " +
                               std::to_string(r.first_half_max) + " in the first half, " +
                               std::to_string(r.last_half_max) + " in the last";
      v.problem = v.problem.empty() ? line : v.problem + "; " + line;
    }
  v.flat = v.problem.empty();
  return v;
}

}  // namespace fedactor
