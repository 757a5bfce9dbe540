#pragma once

// The Prometheus text exposition format 0.0.4 of a run's live state (`GET /metrics`,
// docs/observability.md lists every metric and the record field it comes from).

#include <string>

#include "runtime/http/live_state.hpp"

namespace fedactor {

// `v` as a Prometheus sample value: "NaN", "+Inf", "-Inf", otherwise the shortest text that
// reads back as `v` (as metrics.jsonl writes it: 0.5, 12, 1e-05).
std::string prometheus_value(double v);

// `v` as the inside of a quoted label value: \ " and newline escaped (\\ \" \n).
std::string prometheus_label_value(const std::string& v);

// Every metric of `s`: a # HELP and a # TYPE line, then its samples, all named fedactor_*.
// Metrics of the latest record appear once there is one; async, norm-bound, privacy and
// evaluation metrics only when the run has them.
std::string prometheus_text(const live_state& s);

}  // namespace fedactor
