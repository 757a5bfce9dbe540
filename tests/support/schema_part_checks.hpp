#pragma once

// Checks one part of the scenario schema's table (runtime/scenario/key_makers.hpp): its keys
// lie in the given sections, in order, and each writes the default scenario's value as text
// that it reads back to the same value, which passes its own check.

#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include "runtime/scenario/key_makers.hpp"

namespace fedactor::testing {

inline std::string section_of(const std::string& path) {
  return path.substr(0, path.find('.'));
}

inline void check_schema_part(const std::vector<schema::key_entry>& part,
                              const std::vector<std::string>& sections, const std::string& first,
                              const std::string& last) {
  REQUIRE_FALSE(part.empty());
  CHECK(part.front().info.path == first);
  CHECK(part.back().info.path == last);
  // The sections appear in the given order, each once as a run of keys.
  std::vector<std::string> seen;
  for (const auto& e : part) {
    const auto s = section_of(e.info.path);
    if (seen.empty() || seen.back() != s) seen.push_back(s);
  }
  CHECK(seen == sections);
  const scenario defaults;
  for (const auto& e : part) {
    INFO(e.info.path);
    CHECK_FALSE(e.check(defaults));
    const auto text = e.emit(defaults);
    scenario back;
    const auto err = e.read(YAML::Load(text), back);
    CHECK_FALSE(err);
    CHECK(e.emit(back) == text);
  }
}

}  // namespace fedactor::testing
