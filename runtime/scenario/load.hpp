#pragma once

// Reading a scenario: YAML file or text -> scenario structs, `--set path=value` overrides,
// validation, and the effective configuration written back as YAML. Every key is one entry
// of the key table (runtime/scenario/schema.cpp); docs/scenarios.md documents each of them.
//
// Errors are one line: "<origin>:<line>: <key.path>: <what was wrong>", where origin is the
// file name (or "--set" for overrides, which have no line; or "scenario" for validate()).

#include <optional>
#include <string>
#include <vector>

#include "runtime/scenario/scenario.hpp"

namespace fedactor {

struct scenario_error {
  std::string message;
};

// One key of the scenario, as listed in docs/scenarios.md.
struct key_info {
  std::string path;           // "training.lr"
  std::string type;           // "unsigned integer", "number", "string", "enum", "list of ..."
  std::string allowed;        // "[1, 4294967295]", "> 0", "range, hash", ...
  std::string default_value;  // as to_yaml writes it: "0.01", "[64]", "\"default\""
  std::string doc;            // one line
};

// Keys present in the file overwrite the corresponding fields of `out`, the others keep
// their values (start from a default-constructed scenario for the documented defaults).
// On error `out` is left unchanged. A missing or unreadable file, a YAML syntax error, an
// empty file, an unknown key, a key given twice, a value of the wrong type, out of range or
// not among an enum's values are all errors. Cross-field checks are left to validate().
std::optional<scenario_error> load_scenario_file(const std::string& path, scenario& out);
std::optional<scenario_error> load_scenario_text(const std::string& yaml, const std::string& origin,
                                                 scenario& out);

// "path=value", value parsed as a YAML scalar or flow node: "training.lr=0.1",
// "model.hidden=[128,64]", "training={lr: 0.1, epochs: 2}". Origin "--set" in errors; on
// error `out` is left unchanged.
std::optional<scenario_error> apply_override(const std::string& assignment, scenario& out);

// Every per-key range check plus the cross-field checks; run after the file and the
// overrides (and on scenarios built in C++).
std::optional<scenario_error> validate(const scenario& s);

// The effective configuration, every key, with its meaning as a comment. Loading it back
// gives an equal scenario.
std::string to_yaml(const scenario& s);

// Every key path in table order, with its type, default and meaning.
std::vector<key_info> scenario_keys();

// The value of one key as to_yaml writes it ("0.01", "[128, 64]"); nullopt for an unknown path.
std::optional<std::string> key_value(const scenario& s, const std::string& path);

}  // namespace fedactor
