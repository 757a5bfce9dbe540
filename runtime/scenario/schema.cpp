#include "runtime/scenario/schema.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <system_error>
#include <type_traits>
#include <utility>

#include "runtime/scenario/key_makers.hpp"

namespace fedactor::schema {
// Shortest text that reads back as the same double, as in "must be in [0, 1)".
std::string short_number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Shortest text that reads back as the same double; whole numbers keep a ".0".
std::string format_number(double v) {
  std::string s = short_number(v);
  if (s.find_first_not_of("-0123456789") == std::string::npos) s += ".0";
  return s;
}

namespace {

// ---- integers ---------------------------------------------------------------------------

// An exact decimal number: value = (neg ? -1 : 1) * digits * 10^exp. Covers "42", "+7",
// "-3", "2.50", "1e6", "2.5E3" without going through floating point.
struct decimal {
  bool neg = false;
  std::string digits;
  long exp = 0;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<decimal> parse_decimal(const std::string& t) {
  decimal d;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) d.neg = t[i++] == '-';
  std::size_t int_digits = 0;
  std::size_t frac_digits = 0;
  while (i < t.size() && is_digit(t[i])) d.digits += t[i++], ++int_digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && is_digit(t[i])) d.digits += t[i++], ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  d.exp = -static_cast<long>(frac_digits);
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) exp_neg = t[i++] == '-';
    long e = 0;
    std::size_t n = 0;
    for (; i < t.size() && is_digit(t[i]); ++i, ++n) {
      if (e < 1000000) e = e * 10 + (t[i] - '0');  // saturate: anything larger overflows anyway
    }
    if (n == 0) return std::nullopt;
    d.exp += exp_neg ? -e : e;
  }
  if (i != t.size()) return std::nullopt;
  return d;
}

enum class int_status { ok, fractional, overflow };

int_status to_integer(const decimal& d, uint64_t& v) {
  v = 0;
  auto first = d.digits.find_first_not_of('0');
  if (first == std::string::npos) return int_status::ok;
  std::string digits = d.digits.substr(first);
  long exp = d.exp;
  while (digits.back() == '0') digits.pop_back(), ++exp;
  if (exp < 0) return int_status::fractional;
  if (static_cast<long>(digits.size()) + exp > 20) return int_status::overflow;
  constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
  for (char c : digits) {
    auto digit = static_cast<uint64_t>(c - '0');
    if (v > (max - digit) / 10) return int_status::overflow;
    v = v * 10 + digit;
  }
  for (long k = 0; k < exp; ++k) {
    if (v > max / 10) return int_status::overflow;
    v *= 10;
  }
  return int_status::ok;
}

}  // namespace

std::string range_text(uint64_t lo, uint64_t hi) {
  return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

std::optional<read_error> read_unsigned(const YAML::Node& n, uint64_t lo, uint64_t hi,
                                        uint64_t& out) {
  if (!n.IsScalar()) return read_error{"expected an unsigned integer, got " + describe(n)};
  const std::string& t = n.Scalar();
  auto d = parse_decimal(t);
  if (!d) return read_error{"expected an unsigned integer, got '" + t + "'"};
  uint64_t v = 0;
  auto status = to_integer(*d, v);
  if (status == int_status::fractional) {
    return read_error{"expected an unsigned integer, got '" + t + "' (not a whole number)"};
  }
  if (status == int_status::overflow || (d->neg && v != 0) || v < lo || v > hi) {
    return read_error{"must be in " + range_text(lo, hi) + ", got " + t};
  }
  out = v;
  return std::nullopt;
}

// ---- floating point ---------------------------------------------------------------------

std::optional<read_error> read_number(const YAML::Node& n, const bounds& b, double& out) {
  if (!n.IsScalar()) return read_error{"expected a number, got " + describe(n)};
  const std::string& t = n.Scalar();
  const char* first = t.data();
  const char* last = first + t.size();
  if (first != last && *first == '+' && last - first > 1 && first[1] != '-') ++first;
  double v = 0;
  auto r = std::from_chars(first, last, v);
  if (r.ec == std::errc::invalid_argument || r.ptr != last) {
    return read_error{"expected a number, got '" + t + "'"};
  }
  if (r.ec == std::errc::result_out_of_range || !std::isfinite(v)) {
    return read_error{"must be a finite number, got '" + t + "'"};
  }
  if (!b.contains(v)) return read_error{b.violation(t)};
  out = v;
  return std::nullopt;
}

namespace {

// The whole table, in the order of docs/scenarios.md.
std::vector<key_entry> make_table() {
  auto t = detail::run_keys();
  for (auto* part : {detail::selection_keys, detail::strategy_keys}) {
    auto more = part();
    t.insert(t.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return t;
}

}  // namespace

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "no value";
}

const std::vector<key_entry>& key_table() {
  static const std::vector<key_entry> table = make_table();
  return table;
}

const key_entry* find_key(const std::string& path) {
  for (const auto& e : key_table()) {
    if (e.info.path == path) return &e;
  }
  return nullptr;
}

bool is_section(const std::string& path) {
  if (path.empty()) return false;
  for (const auto& e : key_table()) {
    const auto& p = e.info.path;
    if (p.size() > path.size() && p.compare(0, path.size(), path) == 0 && p[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string closest(const std::string& name, const std::vector<std::string>& candidates) {
  // Up to one edit per three letters of the last name component, at least one, at most two:
  // "sed" -> "seed", "bach_size" -> "batch_size", but not "foo" -> "pool".
  const auto dot = name.rfind('.');
  const std::size_t last = dot == std::string::npos ? name.size() : name.size() - dot - 1;
  std::string best;
  std::size_t best_distance = std::clamp<std::size_t>(last / 3, 1, 2) + 1;
  for (const auto& c : candidates) {
    auto distance = edit_distance(name, c);
    if (distance < best_distance) best = c, best_distance = distance;
  }
  return best;
}

}  // namespace fedactor::schema
