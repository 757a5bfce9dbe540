#include "runtime/strategy/robust_rule.hpp"

#include <cmath>

#include "runtime/math/coordinate_median.hpp"
#include "runtime/math/krum.hpp"
#include "runtime/math/trimmed_mean.hpp"

namespace fedactor {

const char* to_string(norm_bound_mode x) {
  switch (x) {
    case norm_bound_mode::off:
      return "off";
    case norm_bound_mode::clip:
      return "clip";
    case norm_bound_mode::reject:
      return "reject";
  }
  return "?";
}

const char* to_string(robust_rule_kind x) {
  switch (x) {
    case robust_rule_kind::mean:
      return "mean";
    case robust_rule_kind::median:
      return "median";
    case robust_rule_kind::trimmed_mean:
      return "trimmed_mean";
    case robust_rule_kind::krum:
      return "krum";
  }
  return "?";
}

bool operator==(const robust_settings& a, const robust_settings& b) {
  return a.norm_mode == b.norm_mode && a.norm_bound == b.norm_bound && a.rule == b.rule &&
         a.trim == b.trim && a.krum_f == b.krum_f && a.krum_m == b.krum_m;
}

void apply_robust_rule(const robust_settings& s, const std::vector<const float*>& xs, size_t dim,
                       float* out) {
  if (xs.empty()) return;
  switch (s.rule) {
    case robust_rule_kind::median:
      coordinate_median(xs, dim, out);
      return;
    case robust_rule_kind::trimmed_mean:
      trimmed_mean(xs, dim, s.trim, out);
      return;
    case robust_rule_kind::krum:
      multi_krum(xs, dim, s.krum_f, s.krum_m, out);
      return;
    case robust_rule_kind::mean:
      break;
  }
  trimmed_mean(xs, dim, 0.0, out);  // β = 0: the plain mean
}

const char* robust_settings_problem(const robust_settings& s) {
  if (to_string(s.norm_mode)[0] == '?') return "unknown norm bound mode";
  if (to_string(s.rule)[0] == '?') return "unknown robust rule";
  if (s.norm_mode != norm_bound_mode::off && !(s.norm_bound > 0 && std::isfinite(s.norm_bound)))
    return "norm bound not positive and finite";
  if (!(s.trim >= 0 && s.trim < 0.5)) return "trim fraction outside [0, 0.5)";
  if (s.krum_m < 1) return "krum_m below 1";
  return "";
}

}  // namespace fedactor
