#include "runtime/population/online_model.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr double two_pi = 6.283185307179586;

[[noreturn]] void fail_at(const std::string& file, uint64_t line, const std::string& what) {
  throw std::invalid_argument(file + ":" + std::to_string(line) + ": " + what);
}

// The next whitespace-separated field of `line` from `pos`, or "" at the end.
// A number of seconds as written in a message (5, 0.25, 1e+06).
std::string seconds_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string next_field(const std::string& line, size_t& pos) {
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t' || line[pos] == ',')) ++pos;
  const size_t from = pos;
  while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t' && line[pos] != ',') ++pos;
  return line.substr(from, pos - from);
}

double parse_seconds(const std::string& field, const char* name, const std::string& file,
                     uint64_t line) {
  if (field.empty()) fail_at(file, line, std::string("missing ") + name);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(field.c_str(), &end);
  if (end != field.c_str() + field.size() || errno != 0 || !std::isfinite(v) || v < 0)
    fail_at(file, line,
            std::string(name) + " must be a finite number of seconds >= 0, got '" + field + "'");
  return v;
}

}  // namespace

online_trace parse_online_trace(const std::string& text, const std::string& file,
                                uint64_t clients) {
  online_trace t;
  t.offsets.assign(clients + 1, 0);
  std::istringstream in(text);
  std::string line;
  uint64_t number = 0;
  int64_t last_client = -1;
  double last_end = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t pos = 0;
    const std::string id_field = next_field(line, pos);
    if (id_field.empty() || id_field[0] == '#') continue;  // blank or comment
    char* end = nullptr;
    errno = 0;
    const unsigned long long id = std::strtoull(id_field.c_str(), &end, 10);
    if (end != id_field.c_str() + id_field.size() || errno != 0 || id_field[0] == '-')
      fail_at(file, number, "client_id must be an unsigned integer, got '" + id_field + "'");
    if (id >= clients)
      fail_at(file, number,
              "client_id " + id_field + " is not below population.clients (" +
                  std::to_string(clients) + ")");
    const double start = parse_seconds(next_field(line, pos), "start_s", file, number);
    const double stop = parse_seconds(next_field(line, pos), "end_s", file, number);
    const std::string extra = next_field(line, pos);
    if (!extra.empty() && extra[0] != '#')
      fail_at(file, number,
              "expected 3 fields (client_id start_s end_s), got more: '" + extra + "'");
    if (!(start < stop))
      fail_at(file, number,
              "start_s must be < end_s, got start_s " + seconds_text(start) + " and end_s " +
                  seconds_text(stop));
    const auto cid = static_cast<int64_t>(id);
    if (cid < last_client)
      fail_at(file, number,
              "client_id " + id_field + " after client_id " + std::to_string(last_client) +
                  ": lines must be sorted by client_id");
    if (cid == last_client && start < last_end)
      fail_at(file, number,
              "interval starts at " + seconds_text(start) +
                  " before the previous interval of client " + id_field + " ends (" +
                  seconds_text(last_end) +
                  "): a client's intervals must be ascending and disjoint");
    if (t.intervals.size() >= std::numeric_limits<uint32_t>::max())
      fail_at(file, number, "too many intervals (at most 2^32 - 1)");
    if (cid == last_client && start == last_end) {
      t.intervals.back().end = stop;  // adjoining: one interval
    } else {
      t.intervals.push_back(online_interval{start, stop});
      ++t.offsets[id + 1];
    }
    last_client = cid;
    last_end = stop;
  }
  for (uint64_t i = 0; i < clients; ++i) t.offsets[i + 1] += t.offsets[i];
  t.intervals.shrink_to_fit();  // push_back's spare capacity would stay for the whole run
  return t;
}

online_trace load_online_trace(const std::string& path, uint64_t clients) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::invalid_argument(path + ": cannot read");
  std::ostringstream text;
  text << f.rdbuf();
  return parse_online_trace(text.str(), path, clients);
}

online_model::online_model(const availability_config& cfg, const client_registry& reg,
                           uint64_t seed)
    : kind_(cfg.model), reg_(reg), seed_(seed), cfg_(cfg) {
  if (kind_ == availability_model::diurnal) {
    for (uint64_t i = 0; i < reg_.size(); ++i) {
      const auto r = reg_.region(static_cast<client_id>(i));
      if (r >= region_clients_.size()) region_clients_.resize(r + 1, 0);
      ++region_clients_[r];
    }
  } else if (kind_ == availability_model::trace) {
    trace_ = load_online_trace(cfg.trace, reg_.size());
    index_trace();
  }
}

online_model::online_model(online_trace trace, const client_registry& reg)
    : kind_(availability_model::trace), reg_(reg), trace_(std::move(trace)) {
  if (trace_.offsets.size() != reg_.size() + 1)
    throw std::invalid_argument("online trace: offsets for another population");
  index_trace();
}

void online_model::index_trace() {
  starts_.reserve(trace_.intervals.size());
  ends_.reserve(trace_.intervals.size());
  for (const auto& iv : trace_.intervals) {
    starts_.push_back(iv.start);
    ends_.push_back(iv.end);
  }
  std::sort(starts_.begin(), starts_.end());
  std::sort(ends_.begin(), ends_.end());
}

double online_model::probability(uint32_t region, double t) const {
  const double peak = region < cfg_.peak_s.size() ? cfg_.peak_s[region] : 0.0;
  const double p = cfg_.base + cfg_.amplitude * std::cos(two_pi * (t - peak) / cfg_.period_s);
  return std::clamp(p, 0.0, 1.0);
}

bool online_model::online(client_id id, double t) const {
  switch (kind_) {
    case availability_model::always:
      return true;
    case availability_model::diurnal: {
      const double slot = std::floor(t / cfg_.slot_s);
      const double p = probability(reg_.region(id), slot * cfg_.slot_s);
      rng r{stream_key(seed_, rng_tag::availability, id, static_cast<uint64_t>(slot))};
      return r.uniform() < p;
    }
    case availability_model::trace: {
      const auto* first = trace_.intervals.data() + trace_.offsets[id];
      const auto* last = trace_.intervals.data() + trace_.offsets[id + 1];
      // The first interval ending after t: online iff it has started.
      const auto* it = std::upper_bound(
          first, last, t, [](double x, const online_interval& iv) { return x < iv.end; });
      return it != last && it->start <= t;
    }
  }
  return true;
}

std::optional<double> online_model::offline_at(client_id id, double t0, double t1) const {
  switch (kind_) {
    case availability_model::always:
      return std::nullopt;
    case availability_model::diurnal: {
      if (!online(id, t0)) return t0;
      for (double slot = std::floor(t0 / cfg_.slot_s) + 1; slot * cfg_.slot_s < t1; ++slot)
        if (!online(id, slot * cfg_.slot_s)) return slot * cfg_.slot_s;
      return std::nullopt;
    }
    case availability_model::trace: {
      const auto* first = trace_.intervals.data() + trace_.offsets[id];
      const auto* last = trace_.intervals.data() + trace_.offsets[id + 1];
      const auto* it = std::upper_bound(
          first, last, t0, [](double x, const online_interval& iv) { return x < iv.end; });
      if (it == last || it->start > t0) return t0;
      // Adjoining intervals were merged when parsed: the client is offline from it->end.
      if (it->end < t1) return it->end;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<double> online_model::next_change(double t) const {
  if (kind_ == availability_model::diurnal) return (std::floor(t / cfg_.slot_s) + 1) * cfg_.slot_s;
  if (kind_ == availability_model::trace) {
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), t);
    if (it != starts_.end()) return *it;
  }
  return std::nullopt;
}

double online_model::online_fraction(double t) const {
  const double n = static_cast<double>(reg_.size());
  switch (kind_) {
    case availability_model::always:
      return 1.0;
    case availability_model::diurnal: {
      const double at = std::floor(t / cfg_.slot_s) * cfg_.slot_s;
      double sum = 0;
      for (size_t r = 0; r < region_clients_.size(); ++r)
        sum += static_cast<double>(region_clients_[r]) * probability(static_cast<uint32_t>(r), at);
      return sum / n;
    }
    case availability_model::trace: {
      // Online at t: intervals with start <= t minus those with end <= t (disjoint per client).
      const auto started = std::upper_bound(starts_.begin(), starts_.end(), t) - starts_.begin();
      const auto ended = std::upper_bound(ends_.begin(), ends_.end(), t) - ends_.begin();
      return static_cast<double>(started - ended) / n;
    }
  }
  return 1.0;
}

size_t online_model::bytes() const {
  return region_clients_.capacity() * sizeof(uint64_t) +
         trace_.offsets.capacity() * sizeof(uint32_t) +
         trace_.intervals.capacity() * sizeof(online_interval) +
         (starts_.capacity() + ends_.capacity()) * sizeof(double);
}

}  // namespace fedactor
