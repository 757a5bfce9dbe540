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

#include "runtime/math/dirichlet.hpp"
#include "runtime/math/staleness.hpp"

namespace fedactor::schema {
namespace {

constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();
constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace

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

// ---- key makers -------------------------------------------------------------------------
// Each takes the key path, an accessor `[](auto& s) -> auto& { return s.section.field; }`
// (called on both scenario& and const scenario&), the allowed values, and the one-line doc.

template <class Get>
using field_t = std::decay_t<decltype(std::declval<Get&>()(std::declval<scenario&>()))>;

template <class Get>
key_entry unsigned_key(std::string path, Get get, uint64_t lo, uint64_t hi, std::string doc) {
  using T = field_t<Get>;
  static_assert(std::is_unsigned_v<T>, "unsigned_key needs an unsigned field");
  hi = std::min<uint64_t>(hi, std::numeric_limits<T>::max());
  key_entry e;
  e.info = {std::move(path), "unsigned integer", range_text(lo, hi), "", std::move(doc)};
  e.read = [get, lo, hi](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    uint64_t v = 0;
    if (auto err = read_unsigned(n, lo, hi, v)) return err;
    get(s) = static_cast<T>(v);
    return std::nullopt;
  };
  e.check = [get, lo, hi](const scenario& s) -> std::optional<std::string> {
    uint64_t v = get(s);
    if (v < lo || v > hi) return "must be in " + range_text(lo, hi) + ", got " + std::to_string(v);
    return std::nullopt;
  };
  e.emit = [get](const scenario& s) { return std::to_string(get(s)); };
  return e;
}

template <class Get>
key_entry number_key(std::string path, Get get, bounds b, std::string doc) {
  static_assert(std::is_same_v<field_t<Get>, double>, "number_key needs a double field");
  key_entry e;
  e.info = {std::move(path), "number", b.text(), "", std::move(doc)};
  e.read = [get, b](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    double v = 0;
    if (auto err = read_number(n, b, v)) return err;
    get(s) = v;
    return std::nullopt;
  };
  e.check = [get, b](const scenario& s) -> std::optional<std::string> {
    double v = get(s);
    if (!b.contains(v)) return b.violation(format_number(v));
    return std::nullopt;
  };
  e.emit = [get](const scenario& s) { return format_number(get(s)); };
  return e;
}

template <class Get>
key_entry bool_key(std::string path, Get get, std::string doc) {
  static_assert(std::is_same_v<field_t<Get>, bool>, "bool_key needs a bool field");
  key_entry e;
  e.info = {std::move(path), "boolean", "true, false", "", std::move(doc)};
  e.read = [get](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      get(s) = n.Scalar() == "true";
      return std::nullopt;
    }
    return read_error{"expected true or false, got " + describe(n)};
  };
  e.check = [](const scenario&) -> std::optional<std::string> { return std::nullopt; };
  e.emit = [get](const scenario& s) -> std::string { return get(s) ? "true" : "false"; };
  return e;
}

template <class Get, class E = field_t<Get>>
key_entry enum_key(std::string path, Get get, std::vector<E> values, std::string doc) {
  static_assert(std::is_enum_v<E>, "enum_key needs an enum field");
  std::vector<std::string> names;
  std::string allowed;
  for (E v : values) {
    names.emplace_back(to_string(v));
    allowed += (allowed.empty() ? "" : ", ") + names.back();
  }
  key_entry e;
  e.info = {std::move(path), "enum", allowed, "", std::move(doc)};
  e.read = [get, values, names, allowed](const YAML::Node& n,
                                         scenario& s) -> std::optional<read_error> {
    std::string what = "must be one of: " + allowed + ", got " + describe(n);
    if (!n.IsScalar()) return read_error{what};
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (n.Scalar() == names[i]) {
        get(s) = values[i];
        return std::nullopt;
      }
    }
    if (auto c = closest(n.Scalar(), names); !c.empty()) what += " (did you mean " + c + "?)";
    return read_error{what};
  };
  e.check = [get, values, allowed](const scenario& s) -> std::optional<std::string> {
    E v = get(s);
    if (std::find(values.begin(), values.end(), v) != values.end()) return std::nullopt;
    return "must be one of: " + allowed + ", got value " +
           std::to_string(static_cast<long long>(v));
  };
  e.emit = [get](const scenario& s) -> std::string { return to_string(get(s)); };
  return e;
}

template <class Get>
key_entry unsigned_list_key(std::string path, Get get, uint64_t lo, uint64_t hi, std::string doc) {
  using T = typename field_t<Get>::value_type;
  static_assert(std::is_unsigned_v<T>, "unsigned_list_key needs a vector of unsigned");
  hi = std::min<uint64_t>(hi, std::numeric_limits<T>::max());
  key_entry e;
  e.info = {std::move(path), "list of unsigned integers",
            "each in " + range_text(lo, hi) + ", may be []", "", std::move(doc)};
  e.read = [get, lo, hi](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsSequence()) {
      return read_error{"expected a list of unsigned integers such as [128, 64], got " +
                        describe(n)};
    }
    std::vector<T> list;
    for (std::size_t i = 0; i < n.size(); ++i) {
      uint64_t v = 0;
      if (auto err = read_unsigned(n[i], lo, hi, v)) {
        err->suffix = "[" + std::to_string(i) + "]";
        if (!n[i].Mark().is_null()) err->line = n[i].Mark().line;
        return err;
      }
      list.push_back(static_cast<T>(v));
    }
    get(s) = std::move(list);
    return std::nullopt;
  };
  e.check = [get, lo, hi](const scenario& s) -> std::optional<std::string> {
    const auto& list = get(s);
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (list[i] < lo || list[i] > hi) {
        return "element [" + std::to_string(i) + "] must be in " + range_text(lo, hi) + ", got " +
               std::to_string(list[i]);
      }
    }
    return std::nullopt;
  };
  e.emit = [get](const scenario& s) {
    std::string out = "[";
    for (auto v : get(s)) out += (out.size() > 1 ? ", " : "") + std::to_string(v);
    return out + "]";
  };
  return e;
}

template <class Get>
key_entry number_list_key(std::string path, Get get, bounds b, std::string doc) {
  static_assert(std::is_same_v<field_t<Get>, std::vector<double>>,
                "number_list_key needs a vector of double");
  key_entry e;
  e.info = {std::move(path), "list of numbers", "each " + b.text() + ", may be []", "",
            std::move(doc)};
  e.read = [get, b](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsSequence())
      return read_error{"expected a list of numbers such as [0.01, 0.1], got " + describe(n)};
    std::vector<double> list;
    for (std::size_t i = 0; i < n.size(); ++i) {
      double v = 0;
      if (auto err = read_number(n[i], b, v)) {
        err->suffix = "[" + std::to_string(i) + "]";
        if (!n[i].Mark().is_null()) err->line = n[i].Mark().line;
        return err;
      }
      list.push_back(v);
    }
    get(s) = std::move(list);
    return std::nullopt;
  };
  e.check = [get, b](const scenario& s) -> std::optional<std::string> {
    const auto& list = get(s);
    for (std::size_t i = 0; i < list.size(); ++i)
      if (!b.contains(list[i]))
        return "element [" + std::to_string(i) + "] " + b.violation(format_number(list[i]));
    return std::nullopt;
  };
  e.emit = [get](const scenario& s) {
    std::string out = "[";
    for (double v : get(s)) out += (out.size() > 1 ? ", " : "") + format_number(v);
    return out + "]";
  };
  return e;
}

template <class Get>
key_entry string_key(std::string path, Get get, std::string doc) {
  static_assert(std::is_same_v<field_t<Get>, std::string>, "string_key needs a string field");
  key_entry e;
  e.info = {std::move(path), "string", "non-empty", "", std::move(doc)};
  e.read = [get](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsScalar()) return read_error{"expected a string, got " + describe(n)};
    if (n.Scalar().empty()) return read_error{"must not be empty"};
    get(s) = n.Scalar();
    return std::nullopt;
  };
  e.check = [get](const scenario& s) -> std::optional<std::string> {
    if (get(s).empty()) return "must not be empty";
    return std::nullopt;
  };
  e.emit = [get](const scenario& s) {
    YAML::Emitter out;
    out << YAML::DoubleQuoted << get(s);
    return std::string(out.c_str());
  };
  return e;
}

// A string key that may be empty (an optional file path); "" when unset.
template <class Get>
key_entry optional_string_key(std::string path, Get get, std::string doc) {
  static_assert(std::is_same_v<field_t<Get>, std::string>, "needs a string field");
  key_entry e;
  e.info = {std::move(path), "string", "may be empty", "", std::move(doc)};
  e.read = [get](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsScalar()) return read_error{"expected a string, got " + describe(n)};
    get(s) = n.Scalar();
    return std::nullopt;
  };
  e.check = [](const scenario&) -> std::optional<std::string> { return std::nullopt; };
  e.emit = [get](const scenario& s) {
    YAML::Emitter out;
    out << YAML::DoubleQuoted << get(s);
    return std::string(out.c_str());
  };
  return e;
}

// A server optimizer setting (strategy.*): a number, or "default" (NaN: the kind's default).
// Its range depends on the kind (runtime/strategy/server_optimizer.hpp validate_keys). A value
// the chosen kind does not read is refused unless it is that kind's default (which the
// effective scenario writes for every key), so a deliberate setting is never silently ignored.
bool kind_reads(const scenario& s, optimizer_key k) {
  auto info = find_server_optimizer(s.strategy.server_optimizer);
  return info && std::find(info->keys.begin(), info->keys.end(), k) != info->keys.end();
}

double optimizer_field(const server_optimizer_config& c, optimizer_key k) {
  switch (k) {
    case optimizer_key::server_lr:
      return c.server_lr;
    case optimizer_key::momentum:
      return c.momentum;
    case optimizer_key::beta1:
      return c.beta1;
    case optimizer_key::beta2:
      return c.beta2;
    case optimizer_key::tau:
      return c.tau;
    case optimizer_key::bias_correction:
      return c.bias_correction ? 1 : 0;
  }
  return 0;
}

std::optional<std::string> check_optimizer_key(const scenario& s, optimizer_key k) {
  auto info = find_server_optimizer(s.strategy.server_optimizer);
  if (!info) return std::nullopt;  // strategy.server_optimizer reports it
  const auto eff = effective_optimizer(s.strategy);
  if (!kind_reads(s, k)) {
    if (optimizer_field(eff, k) == optimizer_field(info->defaults, k)) return std::nullopt;
    std::string reads;
    for (auto r : info->keys) reads += (reads.empty() ? "" : ", ") + std::string(key_name(r));
    return "is not used by strategy.server_optimizer " + info->kind + " (it reads " +
           (reads.empty() ? std::string("nothing") : reads) + "); remove it";
  }
  if (auto err = validate_keys(eff, {k})) return err->what;
  return std::nullopt;
}

// The value the effective scenario writes: the one given, else the kind's default.
double effective_value(const scenario& s, optimizer_key k, double stored) {
  if (!std::isnan(stored) || !find_server_optimizer(s.strategy.server_optimizer)) return stored;
  return optimizer_field(effective_optimizer(s.strategy), k);
}

template <class Get>
key_entry optimizer_number_key(optimizer_key k, Get get, std::string doc) {
  key_entry e;
  e.info = {key_name(k), "number or default", "depends on strategy.server_optimizer", "",
            std::move(doc)};
  e.read = [get](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (n.IsScalar() && n.Scalar() == "default") {
      get(s) = std::numeric_limits<double>::quiet_NaN();
      return std::nullopt;
    }
    double v = 0;
    if (auto err = read_number(n, bounds{-inf, false, inf, false}, v)) return err;
    get(s) = v;
    return std::nullopt;
  };
  e.check = [k](const scenario& s) -> std::optional<std::string> {
    return check_optimizer_key(s, k);
  };
  e.emit = [get, k](const scenario& s) -> std::string {
    const double v = effective_value(s, k, get(s));
    return std::isnan(v) ? std::string("default") : format_number(v);
  };
  return e;
}

key_entry bias_correction_key(std::string doc) {
  const optimizer_key k = optimizer_key::bias_correction;
  key_entry e;
  e.info = {key_name(k), "boolean or default", "true, false, default", "", std::move(doc)};
  e.read = [](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (n.IsScalar()) {
      const auto& t = n.Scalar();
      if (t == "default") {
        s.strategy.bias_correction.reset();
        return std::nullopt;
      }
      if (t == "true" || t == "false") {
        s.strategy.bias_correction = t == "true";
        return std::nullopt;
      }
    }
    return read_error{"must be one of: true, false, default, got " + describe(n)};
  };
  e.check = [k](const scenario& s) -> std::optional<std::string> {
    return check_optimizer_key(s, k);
  };
  e.emit = [](const scenario& s) -> std::string {
    if (s.strategy.bias_correction) return *s.strategy.bias_correction ? "true" : "false";
    if (!find_server_optimizer(s.strategy.server_optimizer)) return "default";
    return effective_optimizer(s.strategy).bias_correction ? "true" : "false";
  };
  return e;
}

key_entry server_optimizer_key(std::string doc) {
  key_entry e;
  std::string kinds;
  for (const auto& k : server_optimizer_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  e.info = {server_optimizer_kind_key, "enum", kinds, "", std::move(doc)};
  e.read = [](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsScalar() || n.Scalar().empty())
      return read_error{"expected the name of a server optimizer, got " + describe(n)};
    s.strategy.server_optimizer = n.Scalar();  // checked by validate (kinds may be added later)
    return std::nullopt;
  };
  e.check = [](const scenario& s) -> std::optional<std::string> {
    auto info = find_server_optimizer(s.strategy.server_optimizer);
    if (!info) {
      std::string kinds;
      auto names = server_optimizer_kinds();
      for (const auto& k : names) kinds += (kinds.empty() ? "" : ", ") + k;
      std::string what = "must be one of: " + kinds + ", got '" + s.strategy.server_optimizer + "'";
      if (auto c = closest(s.strategy.server_optimizer, names); !c.empty())
        what += " (did you mean " + c + "?)";
      return what;
    }
    if (info->check) {
      if (auto err = info->check(effective_optimizer(s.strategy))) return err->message();
    }
    return std::nullopt;
  };
  e.emit = [](const scenario& s) -> std::string { return s.strategy.server_optimizer; };
  return e;
}

// Adds a check that looks at other keys too (run by validate() after the key's own check).
key_entry with_check(key_entry e,
                     std::function<std::optional<std::string>(const scenario&)> extra) {
  e.check = [own = std::move(e.check), extra = std::move(extra)](const scenario& s) {
    if (auto what = own(s)) return what;
    return extra(s);
  };
  return e;
}

// Training samples of the data kinds that come from a fixed data set.
constexpr uint64_t fashion_mnist_train_samples = 60000;
constexpr uint32_t fashion_mnist_classes = 10;

uint32_t data_classes(const scenario& s) {
  return s.data.kind == data_kind::fashion_mnist || s.data.kind == data_kind::leaf_synthetic
             ? fashion_mnist_classes
             : s.data.classes;
}

// ---- the table --------------------------------------------------------------------------

std::vector<key_entry> make_table() {
  const bounds positive{0, true, inf, false};
  const bounds unit_closed{0, false, 1, false};
  const bounds unit_half_open{0, false, 1, true};
  // clang-format off
  return {
    string_key("name", [](auto& s) -> auto& { return s.name; },
      "label of the run, copied into metrics.jsonl and summary.json"),
    unsigned_key("seed", [](auto& s) -> auto& { return s.seed; }, 0, u64_max,
      "root of every random stream (sampling, data, initial weights): same seed, same run"),

    with_check(unsigned_key("population.clients",
      [](auto& s) -> auto& { return s.population.clients; },
      1, u32_max, "registered clients, ids 0..clients-1 (1e6 style accepted)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind == data_kind::fashion_mnist &&
            s.population.clients > fashion_mnist_train_samples) {
          return "must be <= 60000 for data.kind fashion_mnist (one training sample or more "
                 "per client), got " + std::to_string(s.population.clients);
        }
        return std::nullopt;
      }),
    unsigned_key("population.regions", [](auto& s) -> auto& { return s.population.regions; },
      1, 65535, "regions the clients are spread over (registry metadata)"),
    with_check(enum_key("population.availability.model",
      [](auto& s) -> auto& { return s.population.availability.model; },
      std::vector{availability_model::always, availability_model::diurnal,
                  availability_model::trace},
      "when clients are online: always, diurnal = per region an online probability over the "
      "simulated day, trace = online intervals from population.availability.trace "
      "(docs/selection.md); samplers pick online clients only, a client going offline "
      "mid-task fails it"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto m = s.population.availability.model;
        if (m == availability_model::always) return std::nullopt;
        if (s.clock != clock_kind::simulated)
          return std::string("needs clock simulated (online times are simulated times), got ") +
                 to_string(s.clock);
        return std::nullopt;
      }),
    number_key("population.availability.base",
      [](auto& s) -> auto& { return s.population.availability.base; },
      bounds{0, false, 1, false},
      "diurnal: mean online probability; p_r(t) = clamp(base + amplitude x cos(2 pi (t - "
      "peak_s[r]) / period_s), 0, 1)"),
    number_key("population.availability.amplitude",
      [](auto& s) -> auto& { return s.population.availability.amplitude; },
      bounds{0, false, 1, false}, "diurnal: swing of the online probability around base"),
    number_key("population.availability.period_s",
      [](auto& s) -> auto& { return s.population.availability.period_s; }, positive,
      "diurnal: length of the cycle in simulated seconds (86400 = a day)"),
    number_key("population.availability.slot_s",
      [](auto& s) -> auto& { return s.population.availability.slot_s; }, positive,
      "diurnal: a client's online state is drawn once per slot of this many simulated seconds, "
      "at p_r(slot start)"),
    with_check(number_list_key("population.availability.peak_s",
      [](auto& s) -> auto& { return s.population.availability.peak_s; },
      bounds{0, false, inf, false},
      "diurnal: per region, the simulated time of its peak (time zones); [] = 0 for every "
      "region"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto n = s.population.availability.peak_s.size();
        if (n != 0 && n != s.population.regions)
          return "needs one entry per region (population.regions = " +
                 std::to_string(s.population.regions) + "), got " + std::to_string(n);
        return std::nullopt;
      }),
    with_check(optional_string_key("population.availability.trace",
      [](auto& s) -> auto& { return s.population.availability.trace; },
      "trace: the online-interval file, lines `client_id start_s end_s` (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& a = s.population.availability;
        if (a.model != availability_model::trace) {
          if (!a.trace.empty()) return "only read by population.availability.model trace";
          return std::nullopt;
        }
        if (a.trace.empty()) return "required for population.availability.model trace";
        std::error_code ec;
        if (!std::filesystem::is_regular_file(a.trace, ec)) return "no such file: " + a.trace;
        return std::nullopt;
      }),

    enum_key("data.kind", [](auto& s) -> auto& { return s.data.kind; },
      std::vector{data_kind::tutorial_random, data_kind::teacher, data_kind::fashion_mnist,
                  data_kind::leaf_synthetic},
      "tutorial_random = random features and labels as in the tutorial; teacher = labels "
      "from a fixed random network; fashion_mnist = the Fashion-MNIST files, split by "
      "data.partition; leaf_synthetic = LEAF/FedProx synthetic(alpha, beta)"),
    unsigned_key("data.features", [](auto& s) -> auto& { return s.data.features; },
      1, u32_max, "input dimension of every sample"),
    unsigned_key("data.classes", [](auto& s) -> auto& { return s.data.classes; },
      2, u32_max, "number of labels"),
    unsigned_key("data.min_samples", [](auto& s) -> auto& { return s.data.min_samples; },
      1, u32_max, "smallest client dataset; sizes are uniform in [min_samples, max_samples)"),
    unsigned_key("data.max_samples", [](auto& s) -> auto& { return s.data.max_samples; },
      2, u32_max, "exclusive upper bound of client dataset sizes; must be > data.min_samples"),
    unsigned_key("data.teacher_hidden", [](auto& s) -> auto& { return s.data.teacher_hidden; },
      1, u32_max, "teacher kind: hidden width of the labelling network"),
    number_key("data.label_noise", [](auto& s) -> auto& { return s.data.label_noise; },
      unit_closed, "teacher kind: probability that a label is replaced by a random one"),
    string_key("data.path", [](auto& s) -> auto& { return s.data.path; },
      "fashion_mnist kind: directory of the IDX .gz files (Debian package "
      "dataset-fashion-mnist)"),
    enum_key("data.partition", [](auto& s) -> auto& { return s.data.partition; },
      std::vector{partition_kind::iid, partition_kind::dirichlet,
                  partition_kind::labels_per_client, partition_kind::quantity_skew},
      "fashion_mnist kind: how training samples are split over clients"),
    with_check(number_key("data.alpha", [](auto& s) -> auto& { return s.data.alpha; },
      bounds{0, false, inf, false},
      "dirichlet / quantity_skew partition: Dirichlet concentration (small = skewed); "
      "leaf_synthetic: alpha (spread of the client models)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind == data_kind::fashion_mnist && s.data.alpha < min_dirichlet_alpha &&
            (s.data.partition == partition_kind::dirichlet ||
             s.data.partition == partition_kind::quantity_skew)) {
          return std::string("must be >= 1e-6 for data.partition ") +
                 to_string(s.data.partition) + ", got " + format_number(s.data.alpha);
        }
        return std::nullopt;
      }),
    with_check(unsigned_key("data.labels_per_client",
      [](auto& s) -> auto& { return s.data.labels_per_client; }, 1, u32_max,
      "labels_per_client partition: labels each client holds (k)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind != data_kind::fashion_mnist ||
            s.data.partition != partition_kind::labels_per_client) {
          return std::nullopt;
        }
        const uint32_t classes = data_classes(s);
        const uint64_t k = s.data.labels_per_client;
        if (k > classes) {
          return "must be in [1, " + std::to_string(classes) + "] (the data's classes), got " +
                 std::to_string(k);
        }
        if (s.population.clients * k < classes) {
          return "population.clients x labels_per_client must be >= " +
                 std::to_string(classes) + " so that every label has a client, got " +
                 std::to_string(s.population.clients * k);
        }
        return std::nullopt;
      }),
    number_key("data.beta", [](auto& s) -> auto& { return s.data.beta; },
      bounds{0, false, inf, false},
      "leaf_synthetic: beta (spread of the clients' input means)"),

    with_check(enum_key("model.kind", [](auto& s) -> auto& { return s.model.kind; },
      std::vector{model_kind::mlp, model_kind::cnn, model_kind::torchscript},
      "mlp = fully connected layers with ReLU in between; cnn = the NIID-Bench simple CNN "
      "(image data); torchscript = the module in model.path"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.model.kind == model_kind::cnn && s.data.kind != data_kind::fashion_mnist) {
          return std::string("cnn needs image data (data.kind fashion_mnist), got data.kind ") +
                 to_string(s.data.kind);
        }
        return std::nullopt;
      }),
    unsigned_list_key("model.hidden", [](auto& s) -> auto& { return s.model.hidden; },
      1, u32_max, "hidden layer widths, input to output; [] = logistic regression"),
    with_check(optional_string_key("model.path", [](auto& s) -> auto& { return s.model.path; },
      "torchscript kind: the TorchScript file (torch.jit.save) whose parameters federate"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.model.kind != model_kind::torchscript) return std::nullopt;
        if (s.model.path.empty()) return "required for model.kind torchscript";
        std::error_code ec;
        if (!std::filesystem::is_regular_file(s.model.path, ec)) {
          return "no such file: " + s.model.path;
        }
        return std::nullopt;
      }),

    unsigned_key("eval.every", [](auto& s) -> auto& { return s.eval.every; }, 0, u32_max,
      "evaluate the global model on the data's test split every N rounds; 0 = never"),
    with_check(unsigned_key("eval.clients", [](auto& s) -> auto& { return s.eval.clients; },
      0, u32_max, "also evaluate it on this many sampled clients' local data; 0 = off"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.eval.clients > s.population.clients) {
          return "must be <= population.clients (" + std::to_string(s.population.clients) +
                 "), got " + std::to_string(s.eval.clients);
        }
        return std::nullopt;
      }),

    unsigned_key("training.epochs", [](auto& s) -> auto& { return s.training.epochs; },
      1, u32_max, "local passes over the client's data per task"),
    unsigned_key("training.batch_size", [](auto& s) -> auto& { return s.training.batch_size; },
      1, u32_max, "local SGD mini-batch size"),
    number_key("training.lr", [](auto& s) -> auto& { return s.training.lr; },
      positive, "local SGD learning rate"),
    number_key("training.momentum", [](auto& s) -> auto& { return s.training.momentum; },
      unit_half_open, "local SGD momentum"),
    number_key("training.timeout_s", [](auto& s) -> auto& { return s.training.timeout_s; },
      positive, "seconds a client task may take before the client counts as failed"),

    unsigned_key("topology.edges", [](auto& s) -> auto& { return s.topology.edges; },
      1, u32_max, "edge aggregators between the server and the clients"),
    enum_key("topology.routing", [](auto& s) -> auto& { return s.topology.routing; },
      std::vector{routing_kind::range, routing_kind::hash, routing_kind::region},
      "which edge serves a client: range = contiguous id blocks, hash = hashed id, region = "
      "the least-loaded edge of the client's region, spilling to the nearest region when full"),
    with_check(unsigned_list_key("topology.edge_regions",
      [](auto& s) -> auto& { return s.topology.edge_regions; }, 0, 65535,
      "the region of each edge (topology.edges entries), for routing region and, under any "
      "routing, the inter-region latency; [] = no region under range and hash, spread under "
      "region (edge e in region floor(e x population.regions / topology.edges))"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& r = s.topology.edge_regions;
        if (r.empty()) return std::nullopt;
        if (r.size() != s.topology.edges)
          return "needs one region per edge (topology.edges = " +
                 std::to_string(s.topology.edges) + "), got " + std::to_string(r.size());
        for (std::size_t i = 0; i < r.size(); ++i)
          if (r[i] >= s.population.regions)
            return "element [" + std::to_string(i) + "] must be < population.regions (" +
                   std::to_string(s.population.regions) + "), got " + std::to_string(r[i]);
        return std::nullopt;
      }),
    unsigned_key("topology.edge_capacity",
      [](auto& s) -> auto& { return s.topology.edge_capacity; }, 0, u32_max,
      "routing region: tasks in flight an edge takes before its region's clients spill to the "
      "nearest region; 0 = no cap"),
    with_check(number_list_key("topology.region_latency_s",
      [](auto& s) -> auto& { return s.topology.region_latency_s; }, bounds{0, false, inf, false},
      "edges with regions: one-way seconds between a client's region (row) and its edge's region "
      "(column), population.regions squared entries row by row, added twice to each task's "
      "simulated time; [] = 0.01 within a region, 0.1 x |a - b| between regions a and b"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto n = s.topology.region_latency_s.size();
        const uint64_t r = s.population.regions;
        if (n != 0 && n != r * r)
          return "needs population.regions squared entries (" + std::to_string(r * r) +
                 "), got " + std::to_string(n);
        return std::nullopt;
      }),

    enum_key("selection.strategy", [](auto& s) -> auto& { return s.selection.strategy; },
      std::vector{sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent,
                  sampling_kind::oort},
      "how each round's clients are drawn: uniformly, weighted by sample count, the "
      "longest idle first, or oort = by statistical utility and speed (Lai et al. 2021, "
      "selection.oort.*, docs/selection.md)"),
    unsigned_key("selection.clients_per_round",
      [](auto& s) -> auto& { return s.selection.clients_per_round; },
      1, u32_max, "clients trained per round; at most population.clients"),
    number_key("selection.over_select", [](auto& s) -> auto& { return s.selection.over_select; },
      bounds{0, false, inf, false},
      "sync: sample ceil(clients_per_round x (1 + over_select)) clients and keep the first "
      "clients_per_round to finish; 0 = no over-selection"),
    number_key("selection.oort.exploration",
      [](auto& s) -> auto& { return s.selection.oort.exploration; }, bounds{0, false, 1, false},
      "oort: initial exploration factor epsilon, the share of a round given to clients that "
      "never reported"),
    number_key("selection.oort.exploration_decay",
      [](auto& s) -> auto& { return s.selection.oort.exploration_decay; },
      bounds{0, false, 1, false}, "oort: epsilon <- max(epsilon x decay, exploration_min) at "
      "every round"),
    number_key("selection.oort.exploration_min",
      [](auto& s) -> auto& { return s.selection.oort.exploration_min; },
      bounds{0, false, 1, false}, "oort: the floor of epsilon"),
    number_key("selection.oort.penalty", [](auto& s) -> auto& { return s.selection.oort.penalty; },
      bounds{0, false, 100, false}, "oort: alpha, a client slower than the preferred duration T "
      "has its utility multiplied by (T / t_i)^alpha"),
    number_key("selection.oort.round_threshold",
      [](auto& s) -> auto& { return s.selection.oort.round_threshold; },
      bounds{0, false, 100, false}, "oort: T is this percentile of the reported clients' last "
      "durations (100 = no preference); the pacer raises it"),
    unsigned_key("selection.oort.pacer_step",
      [](auto& s) -> auto& { return s.selection.oort.pacer_step; }, 1, u32_max,
      "oort: rounds per pacer window; when the exploited utility of the last window is within "
      "10 % of the one before, round_threshold rises by pacer_delta"),
    number_key("selection.oort.pacer_delta",
      [](auto& s) -> auto& { return s.selection.oort.pacer_delta; },
      bounds{0, false, 100, false}, "oort: percentage points the pacer moves round_threshold by"),
    number_key("selection.oort.cut_off",
      [](auto& s) -> auto& { return s.selection.oort.cut_off; }, bounds{0, false, 1, true},
      "oort: exploited clients are drawn by utility from those within (1 - cut_off) of the "
      "k-th best"),
    number_key("selection.oort.clip_bound",
      [](auto& s) -> auto& { return s.selection.oort.clip_bound; }, bounds{0, false, 1, false},
      "oort: utilities are clipped at this quantile before they are normalised"),
    with_check(bool_key("selection.adaptive_size.enabled",
      [](auto& s) -> auto& { return s.selection.adaptive_size.enabled; },
      "adapt the clients per round (sync: from clients_per_round) or the async concurrency "
      "(from async.concurrency, after every server step) from the relative variance of the "
      "aggregate (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& a = s.selection.adaptive_size;
        if (!a.enabled) return std::nullopt;
        const bool async = s.protocol.mode == protocol_mode::async;
        if (async && s.async.edge != edge_mode::forward)
          return "needs async.edge_mode forward in async mode (a pre-aggregated group hides its "
                 "members' spread)";
        if (s.privacy.mode != privacy_mode::off)
          return "does not combine with privacy.mode dp_fedavg (the sample size would depend "
                 "on the clients' data)";
        if (s.robust.rule != robust_rule_kind::mean ||
            s.robust.norm_bound.mode != norm_bound_mode::off)
          return "needs robust.rule mean and robust.norm_bound.mode off (the spread is of the "
                 "updates as sent, around their plain weighted mean)";
        if (a.min > a.max)
          return "min (" + std::to_string(a.min) + ") must be <= max (" + std::to_string(a.max) +
                 ")";
        if (a.max > s.population.clients)
          return "max must be <= population.clients (" + std::to_string(s.population.clients) +
                 "), got " + std::to_string(a.max);
        const uint32_t start = async ? s.async.concurrency : s.selection.clients_per_round;
        if (start < a.min || start > a.max)
          return std::string(async ? "async.concurrency" : "selection.clients_per_round") + " (" +
                 std::to_string(start) + ") must be within [min, max] = [" +
                 std::to_string(a.min) + ", " + std::to_string(a.max) + "]";
        return std::nullopt;
      }),
    unsigned_key("selection.adaptive_size.min",
      [](auto& s) -> auto& { return s.selection.adaptive_size.min; }, 1, u32_max,
      "adaptive size: the fewest clients per round (async: the lowest concurrency)"),
    unsigned_key("selection.adaptive_size.max",
      [](auto& s) -> auto& { return s.selection.adaptive_size.max; }, 1, u32_max,
      "adaptive size: the most clients per round (async: the highest concurrency); at most "
      "population.clients"),
    number_key("selection.adaptive_size.target_rel_var",
      [](auto& s) -> auto& { return s.selection.adaptive_size.target_rel_var; },
      bounds{0, true, inf, false}, "adaptive size: target of var / (k ||mean||^2); above it the "
      "size grows, below a quarter of it the size shrinks"),
    number_key("selection.adaptive_size.grow",
      [](auto& s) -> auto& { return s.selection.adaptive_size.grow; },
      bounds{1, true, 100, false}, "adaptive size: k <- ceil(k x grow) when above the target"),
    number_key("selection.adaptive_size.shrink",
      [](auto& s) -> auto& { return s.selection.adaptive_size.shrink; },
      bounds{0, true, 1, true}, "adaptive size: k <- floor(k x shrink) when below target / 4"),
    with_check(bool_key("selection.pace.enabled",
      [](auto& s) -> auto& { return s.selection.pace.enabled; },
      "pace steering: sync asks for ceil(k x min(max_factor, 1 / (1 - f))) clients, f the "
      "EWMA of the rounds' failure rates, and aggregates the first k to finish; async keeps "
      "ceil(concurrency x min(max_factor, 1 / (1 - f))) tasks in flight, f the EWMA of the "
      "steps' non-stale failure rates (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (!s.selection.pace.enabled) return std::nullopt;
        if (s.protocol.mode == protocol_mode::async) return std::nullopt;
        if (s.clock != clock_kind::simulated)
          return "needs clock simulated (the first k to finish are kept in simulated time)";
        if (s.selection.over_select > 0)
          return "does not combine with selection.over_select (pace steering sizes the "
                 "over-selection), got " + format_number(s.selection.over_select);
        if (s.privacy.mode != privacy_mode::off)
          return "does not combine with privacy.mode dp_fedavg (keeping the fastest clients "
                 "makes sampling non-uniform)";
        return std::nullopt;
      }),
    number_key("selection.pace.ewma",
      [](auto& s) -> auto& { return s.selection.pace.ewma; }, bounds{0, true, 1, false},
      "pace steering: weight of the last round in the failure-rate EWMA, "
      "f <- (1 - ewma) x f + ewma x failed / attempted"),
    number_key("selection.pace.max_factor",
      [](auto& s) -> auto& { return s.selection.pace.max_factor; }, bounds{1, false, 100, false},
      "pace steering: the largest over-selection factor (wanted / clients_per_round)"),

    unsigned_key("pool.max_live_clients",
      [](auto& s) -> auto& { return s.pool.max_live_clients; },
      1, u32_max, "client actors alive at once over all edges (least recently used are "
      "evicted); at least topology.edges"),
    unsigned_key("pool.trainers", [](auto& s) -> auto& { return s.pool.trainers; },
      0, 4096, "trainer threads running local SGD; 0 = one per core"),
    unsigned_key("pool.client_state_mb",
      [](auto& s) -> auto& { return s.pool.client_state_mb; }, 1, 1048576,
      "MiB of memory for the clients' algorithm state (strategy.client scaffold, "
      "strategy.normalization local); beyond it state spills to the client state store's file"),

    enum_key("protocol.mode", [](auto& s) -> auto& { return s.protocol.mode; },
      std::vector{protocol_mode::sync, protocol_mode::async},
      "sync = rounds with a barrier: sample, train, aggregate, repeat; async = FedBuff: "
      "async.concurrency clients always training, a server step every async.buffer_size "
      "updates"),
    unsigned_key("protocol.rounds", [](auto& s) -> auto& { return s.protocol.rounds; },
      1, u32_max, "number of rounds to run"),
    number_key("protocol.round_deadline",
      [](auto& s) -> auto& { return s.protocol.round_deadline; }, bounds{0, false, inf, false},
      "sync: simulated seconds a round may last, clients not done by then count as failed; "
      "0 = no deadline"),

    enum_key("clock", [](auto& s) -> auto& { return s.clock; },
      std::vector{clock_kind::simulated, clock_kind::real},
      "simulated = each task lasts a duration drawn from devices.*, results are released in "
      "simulated finish order (same seed, same run); real = wall-clock arrival order"),

    unsigned_key("async.concurrency", [](auto& s) -> auto& { return s.async.concurrency; },
      1, u32_max, "clients training at once; at most population.clients"),
    unsigned_key("async.buffer_size", [](auto& s) -> auto& { return s.async.buffer_size; },
      1, u32_max, "updates folded into the buffer before the server steps"),
    unsigned_key("async.staleness_threshold",
      [](auto& s) -> auto& { return s.async.staleness_threshold; },
      0, max_staleness_threshold,
      "updates more than this many versions old are discarded (and counted)"),
    enum_key("async.decay.kind", [](auto& s) -> auto& { return s.async.decay.kind; },
      std::vector{decay_kind::exponential, decay_kind::polynomial, decay_kind::hinge,
                  decay_kind::constant},
      "staleness weight of an update s versions old: exponential = base^s, polynomial = "
      "(1 + s)^-exponent, hinge = 1 up to b then 1 / (a (s - b) + 1), constant = 1"),
    number_key("async.decay.base", [](auto& s) -> auto& { return s.async.decay.base; },
      bounds{0, true, 1, false}, "exponential decay: base (the tutorial's 0.9)"),
    number_key("async.decay.exponent", [](auto& s) -> auto& { return s.async.decay.exponent; },
      bounds{0, false, inf, false}, "polynomial decay: exponent"),
    number_key("async.decay.a", [](auto& s) -> auto& { return s.async.decay.a; },
      bounds{0, false, inf, false}, "hinge decay: slope after the hinge"),
    number_key("async.decay.b", [](auto& s) -> auto& { return s.async.decay.b; },
      bounds{0, false, inf, false}, "hinge decay: staleness up to which the weight is 1"),
    enum_key("async.delta", [](auto& s) -> auto& { return s.async.delta; },
      std::vector{delta_rule::base, delta_rule::current},
      "client delta: base = against the model the client started from (FedBuff); current = "
      "against the current global model (the tutorial)"),
    unsigned_key("async.aggregations", [](auto& s) -> auto& { return s.async.aggregations; },
      1, u32_max, "server steps to run"),
    enum_key("async.edge_mode", [](auto& s) -> auto& { return s.async.edge; },
      std::vector{edge_mode::forward, edge_mode::preaggregate},
      "forward = edges pass each update on; preaggregate = edges fold async.preaggregate "
      "updates of one base version before forwarding them as a group"),
    unsigned_key("async.preaggregate", [](auto& s) -> auto& { return s.async.preaggregate; },
      1, u32_max, "preaggregate edge mode: updates an edge folds into one group"),

    enum_key("devices.compute_power.kind",
      [](auto& s) -> auto& { return s.devices.compute_power.kind; },
      std::vector{power_kind::uniform, power_kind::lognormal, power_kind::constant},
      "relative device speed: uniform in (0, 1] (the tutorial), lognormal with median 1, "
      "or constant"),
    number_key("devices.compute_power.sigma",
      [](auto& s) -> auto& { return s.devices.compute_power.sigma; }, positive,
      "lognormal compute power: sigma of its logarithm"),
    number_key("devices.compute_power.value",
      [](auto& s) -> auto& { return s.devices.compute_power.value; }, positive,
      "constant compute power: the value"),
    number_key("devices.per_sample_s", [](auto& s) -> auto& { return s.devices.per_sample_s; },
      bounds{0, false, inf, false},
      "simulated seconds per sample and epoch at compute power 1"),
    number_key("devices.bandwidth_mbps",
      [](auto& s) -> auto& { return s.devices.bandwidth_mbps; }, positive,
      "median link speed in Mbit/s (model down and update up)"),
    number_key("devices.bandwidth_sigma",
      [](auto& s) -> auto& { return s.devices.bandwidth_sigma; }, bounds{0, false, inf, false},
      "lognormal spread of the link speeds (sigma of their logarithm); 0 = all equal"),
    number_key("devices.latency_s", [](auto& s) -> auto& { return s.devices.latency_s; },
      bounds{0, false, inf, false}, "simulated seconds of latency per message"),

    enum_key("faults.on_edge_loss", [](auto& s) -> auto& { return s.faults.on_edge_loss; },
      std::vector{edge_loss_policy::reroute, edge_loss_policy::drop},
      "distributed runs: reroute = a lost edge's clients train through the surviving edges; "
      "drop = they count as failed until the edge rejoins"),

    server_optimizer_key(
      "what the server does with each round's (or FedBuff step's) weighted mean update: sgd = "
      "global += server_lr x mean delta (server_lr 1 = FedAvg), fedavgm = with server "
      "momentum, fedadam / fedyogi / fedadagrad = adaptive (Reddi et al. 2021); see "
      "docs/strategies.md"),
    optimizer_number_key(optimizer_key::server_lr,
      [](auto& s) -> auto& { return s.strategy.server_lr; },
      "server learning rate (eta); default: the optimizer's (sgd and fedavgm 1, fedadam 0.1, "
      "fedyogi 0.01, fedadagrad 0.1)"),
    optimizer_number_key(optimizer_key::momentum,
      [](auto& s) -> auto& { return s.strategy.momentum; },
      "fedavgm: server momentum factor"),
    optimizer_number_key(optimizer_key::beta1,
      [](auto& s) -> auto& { return s.strategy.beta1; },
      "fedadam / fedyogi / fedadagrad: first-moment decay"),
    optimizer_number_key(optimizer_key::beta2,
      [](auto& s) -> auto& { return s.strategy.beta2; },
      "fedadam / fedyogi: second-moment decay"),
    optimizer_number_key(optimizer_key::tau,
      [](auto& s) -> auto& { return s.strategy.tau; },
      "fedadam / fedyogi / fedadagrad: adaptivity, eta * m / (sqrt(v) + tau)"),
    bias_correction_key("fedadam: bias-corrected step size (Adam's; Flower's FedAdam)"),
    enum_key("strategy.client", [](auto& s) -> auto& { return s.strategy.client; },
      std::vector{client_algorithm::fedavg, client_algorithm::fedprox, client_algorithm::scaffold},
      "local training: fedavg = plain local SGD; fedprox = with the proximal term "
      "prox_mu/2 |w - w_global|^2 (Li et al. 2020); scaffold = with control variates "
      "(Karimireddy et al. 2020, option II)"),
    number_key("strategy.prox_mu", [](auto& s) -> auto& { return s.strategy.prox_mu; },
      bounds{0, false, inf, false}, "fedprox: mu of the proximal term (0 = FedAvg)"),
    enum_key("strategy.normalization", [](auto& s) -> auto& { return s.strategy.normalization; },
      std::vector{norm_handling::federated, norm_handling::local},
      "normalisation layers (BatchNorm & co., their running statistics included): federated "
      "= averaged like every parameter; local = FedBN (Li et al. 2021), kept by each client"),

    unsigned_key("checkpoint.every", [](auto& s) -> auto& { return s.checkpoint.every; },
      0, u32_max, "rounds (sync) or server steps (async) between server checkpoints, written "
      "when the run has a checkpoint directory (fedactor run: DIR/checkpoint); 0 = only at the "
      "end of the run"),
    with_check(enum_key("robust.norm_bound.mode",
      [](auto& s) -> auto& { return s.robust.norm_bound.mode; },
      std::vector{norm_bound_mode::off, norm_bound_mode::clip, norm_bound_mode::reject},
      "L2 norm bound on each client's update delta (sync: at its edge; async: at the server's "
      "buffer, before the staleness weight): off; clip = scaled down to the bound; reject = "
      "refused (invalid_update) above it (docs/robustness.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.robust.norm_bound.mode != norm_bound_mode::off &&
            s.protocol.mode == protocol_mode::async && s.async.edge == edge_mode::preaggregate)
          return "is not supported with async.edge_mode preaggregate (a group's aggregate hides "
                 "its members' updates from the bound); use async.edge_mode forward";
        return std::nullopt;
      }),
    number_key("robust.norm_bound.bound",
      [](auto& s) -> auto& { return s.robust.norm_bound.bound; }, positive,
      "the L2 bound C (with target_quantile > 0: its first round's or server step's value)"),
    number_key("robust.norm_bound.target_quantile",
      [](auto& s) -> auto& { return s.robust.norm_bound.target_quantile; }, unit_half_open,
      "0 = fixed bound; in (0, 1): adaptive, C <- C exp(-lr (b - q)) after each round (async: "
      "server step), b the fraction of its updates with norm <= C (Andrew et al. 2021)"),
    number_key("robust.norm_bound.lr", [](auto& s) -> auto& { return s.robust.norm_bound.lr; },
      positive, "adaptive bound: the geometric learning rate (eta)"),
    with_check(enum_key("robust.rule", [](auto& s) -> auto& { return s.robust.rule; },
      std::vector{robust_rule_kind::mean, robust_rule_kind::median,
                  robust_rule_kind::trimmed_mean, robust_rule_kind::krum},
      "how an edge combines its accepted updates: mean = weighted streaming mean (FedAvg); "
      "median / trimmed_mean = coordinate-wise; krum = (multi-)Krum. The non-mean rules hold "
      "the edge's k updates (memory k x model); the server averages the edges' results. Async: "
      "the server holds the buffer's async.buffer_size deltas and steps with the rule's result"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.robust.rule == robust_rule_kind::mean) return std::nullopt;
        if (s.protocol.mode == protocol_mode::async && s.async.edge == edge_mode::preaggregate)
          return "is not supported with async.edge_mode preaggregate (a group's aggregate hides "
                 "its members' updates from the rule); use async.edge_mode forward";
        if (s.strategy.client == client_algorithm::scaffold)
          return "is not supported with strategy.client scaffold (its control variates are "
                 "averaged over the updates the rule does not pick); use mean";
        return std::nullopt;
      }),
    number_key("robust.trim", [](auto& s) -> auto& { return s.robust.trim; },
      bounds{0, false, 0.5, true},
      "trimmed_mean: fraction beta of an edge's updates dropped at each end per coordinate "
      "(floor(beta k))"),
    unsigned_key("robust.krum_f", [](auto& s) -> auto& { return s.robust.krum_f; }, 0, u32_max,
      "krum: Byzantine updates tolerated per edge (scores sum the k - f - 2 nearest, at least 1)"),
    unsigned_key("robust.krum_m", [](auto& s) -> auto& { return s.robust.krum_m; }, 1, u32_max,
      "krum: lowest-scored updates averaged (1 = Krum, more = multi-Krum)"),

    enum_key("attack.kind", [](auto& s) -> auto& { return s.attack.kind; },
      std::vector{attack_kind::none, attack_kind::scale, attack_kind::sign_flip,
                  attack_kind::label_flip, attack_kind::nan, attack_kind::backdoor},
      "simulated attackers: none; scale = delta x scale; sign_flip = delta x -scale; "
      "label_flip = trains on labels c-1-y; nan = sends NaN; backdoor = delta + a fixed "
      "direction of norm scale (docs/robustness.md)"),
    with_check(number_key("attack.fraction", [](auto& s) -> auto& { return s.attack.fraction; },
      unit_closed, "share of the population that is malicious (a fixed set from attack.seed)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.attack.fraction > 0 && s.attack.kind == attack_kind::none)
          return "is set but attack.kind is none; set attack.kind or fraction 0";
        return std::nullopt;
      }),
    number_key("attack.scale", [](auto& s) -> auto& { return s.attack.scale; }, positive,
      "scale: the factor; sign_flip: the factor of the negated delta; backdoor: the norm of "
      "the added direction"),
    unsigned_key("attack.seed", [](auto& s) -> auto& { return s.attack.seed; }, 0, u64_max,
      "which clients are malicious: client c is when hash(seed, c) < fraction"),

    with_check(enum_key("privacy.mode", [](auto& s) -> auto& { return s.privacy.mode; },
      std::vector{privacy_mode::off, privacy_mode::dp_fedavg},
      "client-level differential privacy: off, or dp_fedavg = each update clipped to "
      "privacy.clip at its edge, Gaussian noise added to the round's sum at the server, an RDP "
      "accountant reporting (epsilon, delta) (docs/privacy.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off) return std::nullopt;
        if (s.protocol.mode != protocol_mode::sync)
          return "dp_fedavg needs protocol.mode sync (FedBuff has no sampled rounds: its "
                 "accounting differs, docs/privacy.md), got protocol.mode async";
        if (s.strategy.client == client_algorithm::scaffold)
          return "dp_fedavg does not support strategy.client scaffold (its control variates "
                 "would leave the clients unclipped and unnoised)";
        if (s.strategy.normalization == norm_handling::local)
          return "dp_fedavg does not support strategy.normalization local (FedBN's local layers "
                 "are outside the mechanism)";
        if (s.selection.strategy != sampling_kind::random)
          return std::string("dp_fedavg needs selection.strategy random (the accountant assumes "
                             "uniform sampling), got ") + to_string(s.selection.strategy);
        if (s.selection.over_select > 0)
          return "dp_fedavg needs selection.over_select 0 (keeping the fastest clients makes "
                 "sampling non-uniform), got " + format_number(s.selection.over_select);
        if (s.robust.norm_bound.mode != norm_bound_mode::off ||
            s.robust.rule != robust_rule_kind::mean)
          return "dp_fedavg does not combine with robust.norm_bound or a robust.rule (it clips "
                 "every update itself, and its noise is calibrated to the clipped sum); set "
                 "robust.norm_bound.mode off and robust.rule mean";
        return std::nullopt;
      }),
    number_key("privacy.clip", [](auto& s) -> auto& { return s.privacy.clip; },
      bounds{0, true, 1e30, false},
      "dp_fedavg: C, the L2 norm each client update is clipped to (adaptive clipping: the "
      "first round's)"),
    number_key("privacy.noise_multiplier",
      [](auto& s) -> auto& { return s.privacy.noise_multiplier; }, bounds{0, false, 1e6, false},
      "dp_fedavg: z, noise std / C of each round's release (0 = clipping only, no privacy: "
      "epsilon is infinite)"),
    enum_key("privacy.clipping", [](auto& s) -> auto& { return s.privacy.clipping; },
      std::vector{clipping_kind::fixed, clipping_kind::adaptive},
      "dp_fedavg: fixed = C stays privacy.clip; adaptive = C follows the target quantile of "
      "the update norms (Andrew et al. 2021)"),
    number_key("privacy.target_quantile",
      [](auto& s) -> auto& { return s.privacy.target_quantile; }, unit_closed,
      "adaptive clipping: gamma, the fraction of updates meant to fit under C"),
    number_key("privacy.clip_lr", [](auto& s) -> auto& { return s.privacy.clip_lr; }, positive,
      "adaptive clipping: eta_C, C <- C x exp(-eta_C x (noisy unclipped fraction - gamma))"),
    with_check(number_key("privacy.quantile_noise",
      [](auto& s) -> auto& { return s.privacy.quantile_noise; }, bounds{0, false, 1e6, false},
      "adaptive clipping: sigma_b, noise std of the count of unclipped updates; must be > "
      "noise_multiplier / 2 (the update noise is raised to keep the round's total at z)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off || s.privacy.clipping != clipping_kind::adaptive ||
            s.privacy.noise_multiplier == 0 ||
            2 * s.privacy.quantile_noise > s.privacy.noise_multiplier)
          return std::nullopt;
        return "must be > privacy.noise_multiplier / 2 (" +
               short_number(s.privacy.noise_multiplier / 2) + ") with adaptive clipping, got " +
               short_number(s.privacy.quantile_noise);
      }),
    with_check(number_key("privacy.delta", [](auto& s) -> auto& { return s.privacy.delta; },
      bounds{0, false, 1, true},
      "dp_fedavg: delta of the reported (epsilon, delta); required, below 1 / "
      "population.clients (e.g. population.clients^-1.1)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off) return std::nullopt;
        const double n = static_cast<double>(s.population.clients);
        if (s.privacy.delta > 0 && s.privacy.delta < 1 / n) return std::nullopt;
        return "must be in (0, 1/population.clients) with privacy.mode dp_fedavg (e.g. " +
               short_number(std::pow(n, -1.1)) + " = population.clients^-1.1), got " +
               short_number(s.privacy.delta);
      }),
    enum_key("compression.kind", [](auto& s) -> auto& { return s.compression.kind; },
      std::vector{compression_kind::none, compression_kind::fp16, compression_kind::int8,
                  compression_kind::topk},
      "how each client sends its update delta (docs/communication.md): none = its model as "
      "float32; fp16 = half precision; int8 = one byte per value with a float scale per "
      "compression.block values, stochastic rounding; topk = the compression.density largest "
      "values with their indices, the rest kept as the client's residual (error feedback) and "
      "added to its next update"),
    unsigned_key("compression.block", [](auto& s) -> auto& { return s.compression.block; },
      1, u32_max, "int8: values per block (one float scale each)"),
    number_key("compression.density", [](auto& s) -> auto& { return s.compression.density; },
      bounds{0, true, 1, false},
      "topk: fraction of the update's values sent, k = ceil(density x values), at least 1"),

    events_key("scripted timeline: each event fires at a simulated time (at), a sync round "
      "(round) or an async server step (step) and takes an edge down or up, a region down or "
      "up, clients out or back, or scales their transfer or compute time (docs/scenarios.md "
      "Events)"),
  };
  // clang-format on
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
