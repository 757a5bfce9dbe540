#include "runtime/protocol/event_timeline.hpp"

#include <algorithm>
#include <charconv>

namespace fedactor {

namespace {

std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

bool fires_in_loop(event_kind) {
  return true;
}

event_timeline::event_timeline(const std::vector<scenario_event>& events) {
  for (const auto& e : events) {
    if (!fires_in_loop(e.kind)) continue;
    (e.trigger == event_trigger::at ? timed_ : counted_).push_back(e);
  }
  std::stable_sort(
      counted_.begin(), counted_.end(),
      [](const scenario_event& a, const scenario_event& b) { return a.count < b.count; });
  std::stable_sort(timed_.begin(), timed_.end(),
                   [](const scenario_event& a, const scenario_event& b) { return a.at < b.at; });
  pending_ = counted_.size() + timed_.size();
}

std::vector<scenario_event> event_timeline::take_counted(uint32_t n) {
  std::vector<scenario_event> out;
  while (next_counted_ < counted_.size() && counted_[next_counted_].count <= n) {
    out.push_back(counted_[next_counted_++]);
    --pending_;
  }
  return out;
}

std::vector<scenario_event> event_timeline::take_until(double t) {
  std::vector<scenario_event> out;
  while (next_timed_ < timed_.size() && timed_[next_timed_].at <= t) {
    out.push_back(timed_[next_timed_++]);
    --pending_;
  }
  return out;
}

std::optional<double> event_timeline::next_at() const {
  if (next_timed_ >= timed_.size()) return std::nullopt;
  return timed_[next_timed_].at;
}

fired_event fired(const scenario_event& e, double sim_time, int64_t changed) {
  fired_event f;
  f.kind = to_string(e.kind);
  switch (e.kind) {
    case event_kind::edge_down:
    case event_kind::edge_up:
      f.target = "edge " + std::to_string(e.edge);
      break;
    case event_kind::region_down:
    case event_kind::region_up:
      f.target = "region " + std::to_string(e.region);
      break;
    default:
      f.target = e.clients.fraction > 0 ? "fraction " + number(e.clients.fraction)
                                        : "ids [" + std::to_string(e.clients.from) + ", " +
                                              std::to_string(e.clients.to) + ")";
      if (e.kind == event_kind::bandwidth || e.kind == event_kind::compute)
        f.target += " x" + number(e.factor);
  }
  f.trigger = e.trigger == event_trigger::at
                  ? "at " + number(e.at)
                  : std::string(to_string(e.trigger)) + " " + std::to_string(e.count);
  f.sim_time_s = sim_time;
  f.changed = changed;
  return f;
}

}  // namespace fedactor
