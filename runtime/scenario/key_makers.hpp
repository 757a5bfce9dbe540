#pragma once

// The key makers of the scenario schema's table (schema.cpp; the table's entries are in
// schema_keys_run.cpp, schema_keys_selection.cpp and schema_keys_strategy.cpp): each builds a
// key_entry that reads, checks and writes back one scenario key.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/scenario/schema.hpp"

namespace fedactor::schema::detail {

constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();
constexpr double inf = std::numeric_limits<double>::infinity();

inline const bounds positive{0, true, inf, false};
inline const bounds unit_closed{0, false, 1, false};
inline const bounds unit_half_open{0, false, 1, true};

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

// Adds a check that looks at other keys too (run by validate() after the key's own check).
inline key_entry with_check(key_entry e,
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

inline uint32_t data_classes(const scenario& s) {
  return s.data.kind == data_kind::fashion_mnist || s.data.kind == data_kind::leaf_synthetic
             ? fashion_mnist_classes
             : s.data.classes;
}

// The table's entries in the order of docs/scenarios.md: name, seed, population, data, model,
// eval, training, topology (schema_keys_run.cpp); selection, pool, protocol, clock, async,
// devices, faults (schema_keys_selection.cpp); strategy, checkpoint, robust, attack, privacy,
// compression, events (schema_keys_strategy.cpp).
std::vector<key_entry> run_keys();
std::vector<key_entry> selection_keys();
std::vector<key_entry> strategy_keys();

}  // namespace fedactor::schema::detail
