#pragma once

// The key reference: every scenario key (scenario_keys(), the schema table) with its type,
// allowed values, default and meaning, written as a text table, as Markdown or as JSON.
// `fedactor scenario keys` prints it; docs/scenarios.md holds the Markdown form between
// `<!-- keys:begin -->` and `<!-- keys:end -->` (a test keeps the two equal).

#include <string>
#include <vector>

#include "runtime/scenario/load.hpp"

namespace fedactor {

// Aligned columns KEY, TYPE, ALLOWED, DEFAULT, then the meaning; a header line first.
std::string keys_text(const std::vector<key_info>& keys);

// A Markdown table "| key | type | allowed | default | meaning |", one row per key: path and
// default in backticks, an enum's values each in backticks, '|' in a cell escaped.
std::string keys_markdown(const std::vector<key_info>& keys);

// A JSON array of {"key", "type", "allowed", "default", "doc"} objects (strings; "default" as
// to_yaml writes it), one per line.
std::string keys_json(const std::vector<key_info>& keys);

}  // namespace fedactor
