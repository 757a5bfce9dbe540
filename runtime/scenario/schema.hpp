#pragma once

// The scenario key table: one entry per key path, saying how to read the key's YAML value
// into the scenario structs, how to check and write back the value, and what it means.
// Loading, --set, validate(), to_yaml(), scenario_keys() and the docs check all walk this
// table, so a new key is one entry in schema.cpp. Internal to runtime/scenario.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "runtime/scenario/load.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor::schema {

// What was wrong with one value. `suffix` extends the key path ("[2]" for a list element);
// `line` (0-based) points at the offending node, -1 = the key's own line.
struct read_error {
  read_error(std::string what_, std::string suffix_ = "", int line_ = -1)
      : what(std::move(what_)), suffix(std::move(suffix_)), line(line_) {}
  std::string what;
  std::string suffix;
  int line;
};

struct key_entry {
  key_info info;  // path, type, allowed, doc (default_value filled by scenario_keys())
  // Parse the node, check it, store it into the scenario; untouched on error.
  std::function<std::optional<read_error>(const YAML::Node&, scenario&)> read;
  // The per-key check of the stored value ("must be in [1, 10], got 0").
  std::function<std::optional<std::string>(const scenario&)> check;
  // The stored value as YAML flow text.
  std::function<std::string(const scenario&)> emit;
};

// ---- value readers shared by the key makers (schema.cpp) and the events key (events_key.cpp)

// Shortest text that reads back as the same double ("0.1", "1e-07").
std::string short_number(double v);
// The same, whole numbers keep a ".0" ("3.0").
std::string format_number(double v);
// "[lo, hi]".
std::string range_text(uint64_t lo, uint64_t hi);

// The allowed interval of a number key.
struct bounds {
  double lo;
  bool lo_open;
  double hi;  // inf = unbounded
  bool hi_open;

  bool contains(double v) const {
    return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string text() const {
    if (std::isinf(hi)) return (lo_open ? "> " : ">= ") + short_number(lo);
    return (lo_open ? "(" : "[") + short_number(lo) + ", " + short_number(hi) +
           (hi_open ? ")" : "]");
  }
  std::string violation(const std::string& got) const {
    return std::string("must be ") + (std::isinf(hi) ? "" : "in ") + text() + ", got " + got;
  }
};

// A whole number in [lo, hi] ("1e6" accepted), or what was wrong.
std::optional<read_error> read_unsigned(const YAML::Node& n, uint64_t lo, uint64_t hi,
                                        uint64_t& out);
// A finite number within `b`, or what was wrong.
std::optional<read_error> read_number(const YAML::Node& n, const bounds& b, double& out);

// The `events` key (events_key.cpp): a list of scripted events, each a mapping. Its own check
// covers each event alone; check_events() the rules against other keys.
key_entry events_key(std::string doc);

// The first event that does not fit the rest of the scenario, as a whole message
// "<where>: events[i].field: what" (where = the event's file:line, "--set", or "scenario").
std::optional<std::string> check_events(const scenario& s);

// All keys, in the order to_yaml writes them.
const std::vector<key_entry>& key_table();

// The entry for a key path, nullptr if none.
const key_entry* find_key(const std::string& path);

// True if `path` is a proper prefix (at a '.') of some key path: "training", "data".
bool is_section(const std::string& path);

// How a node looks in an error message: "'abc'", "a list", "a mapping", "no value".
std::string describe(const YAML::Node& n);

// Restricted Damerau-Levenshtein distance (a transposition counts as one edit).
std::size_t edit_distance(const std::string& a, const std::string& b);

// The closest candidate within a small edit distance (one edit per three letters of the
// name's last component, between one and two), or "" if none.
std::string closest(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace fedactor::schema
