#include "runtime/protocol/event_timeline.hpp"

#include <algorithm>
#include <charconv>

#include "runtime/protocol/client_conditions.hpp"
#include "runtime/protocol/edge_set.hpp"

namespace fedactor {

namespace {

std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace

bool fires_in_loop(event_kind k) {
  return k != event_kind::server_crash;
}

event_timeline::event_timeline(const std::vector<scenario_event>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (e.kind == event_kind::server_crash) {
      crashes_.push_back(entry{static_cast<uint32_t>(i), e});
      crashed_.push_back(false);
      continue;
    }
    if (!fires_in_loop(e.kind)) continue;
    (e.trigger == event_trigger::at ? timed_ : counted_)
        .push_back(entry{static_cast<uint32_t>(i), e});
  }
  std::stable_sort(counted_.begin(), counted_.end(),
                   [](const entry& a, const entry& b) { return a.e.count < b.e.count; });
  std::stable_sort(timed_.begin(), timed_.end(),
                   [](const entry& a, const entry& b) { return a.e.at < b.e.at; });
  pending_ = counted_.size() + timed_.size();
}

std::vector<scenario_event> event_timeline::take_counted(uint32_t n) {
  std::vector<scenario_event> out;
  while (next_counted_ < counted_.size() && counted_[next_counted_].e.count <= n) {
    fired_.push_back(counted_[next_counted_].id);
    out.push_back(counted_[next_counted_++].e);
    --pending_;
  }
  return out;
}

std::vector<scenario_event> event_timeline::take_until(double t) {
  std::vector<scenario_event> out;
  while (next_timed_ < timed_.size() && timed_[next_timed_].e.at <= t) {
    fired_.push_back(timed_[next_timed_].id);
    out.push_back(timed_[next_timed_++].e);
    --pending_;
  }
  return out;
}

std::optional<double> event_timeline::next_at() const {
  if (next_timed_ >= timed_.size()) return std::nullopt;
  return timed_[next_timed_].e.at;
}

std::optional<scenario_event> event_timeline::take_crash(uint32_t next, double now) {
  for (size_t i = 0; i < crashes_.size(); ++i) {
    if (crashed_[i]) continue;
    const auto& e = crashes_[i].e;
    if (e.trigger == event_trigger::at ? e.at <= now : e.count <= next) {
      crashed_[i] = true;
      fired_.push_back(crashes_[i].id);
      return e;
    }
  }
  return std::nullopt;
}

bool event_timeline::restore(const std::vector<uint32_t>& ids) {
  size_t c = next_counted_, t = next_timed_;
  auto crashed = crashed_;
  for (uint32_t id : ids) {
    if (c < counted_.size() && counted_[c].id == id) {
      ++c;
      continue;
    }
    if (t < timed_.size() && timed_[t].id == id) {
      ++t;
      continue;
    }
    auto it =
        std::find_if(crashes_.begin(), crashes_.end(), [id](const entry& x) { return x.id == id; });
    if (it == crashes_.end() || crashed[it - crashes_.begin()]) return false;
    crashed[it - crashes_.begin()] = true;
  }
  pending_ -= (c - next_counted_) + (t - next_timed_);
  next_counted_ = c;
  next_timed_ = t;
  crashed_ = std::move(crashed);
  fired_.insert(fired_.end(), ids.begin(), ids.end());
  return true;
}

void replay_effects(const std::vector<scenario_event>& events, const std::vector<uint32_t>& ids,
                    edge_set& edges, client_conditions* conditions) {
  for (uint32_t id : ids) {
    const auto& e = events.at(id);
    if (e.kind == event_kind::edge_down)
      edges.lose(e.edge);
    else if (e.kind == event_kind::edge_up)
      edges.rejoin(e.edge);
    else if (e.kind != event_kind::server_crash && conditions)
      conditions->apply(e);
  }
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
    case event_kind::server_crash:
      f.target = "server";
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
