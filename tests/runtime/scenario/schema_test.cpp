#include "runtime/scenario/schema.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("scenario key table has unique paths and no key that is also a section", "[scenario]") {
  std::set<std::string> seen;
  for (const auto& e : schema::key_table()) {
    INFO(e.info.path);
    CHECK(seen.insert(e.info.path).second);
    CHECK_FALSE(schema::is_section(e.info.path));
    CHECK(schema::find_key(e.info.path) == &e);
  }
  CHECK(schema::find_key("training") == nullptr);
  CHECK(schema::is_section("training"));
  CHECK_FALSE(schema::is_section("train"));
  CHECK_FALSE(schema::is_section(""));
}

TEST_CASE("scenario key paths are dotted lower-case names with a one-line doc", "[scenario]") {
  for (const auto& e : schema::key_table()) {
    const auto& p = e.info.path;
    INFO(p);
    CHECK_FALSE(p.empty());
    CHECK(p.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.") == std::string::npos);
    CHECK(p.front() != '.');
    CHECK(p.back() != '.');
    CHECK(p.find("..") == std::string::npos);
    CHECK_FALSE(e.info.type.empty());
    CHECK_FALSE(e.info.allowed.empty());
    CHECK_FALSE(e.info.doc.empty());
    CHECK(e.info.doc.find('\n') == std::string::npos);
    CHECK(e.read);
    CHECK(e.check);
    CHECK(e.emit);
  }
}

TEST_CASE("scenario_keys lists the table in order with defaults as to_yaml writes them",
          "[scenario]") {
  const auto keys = scenario_keys();
  const auto& table = schema::key_table();
  REQUIRE(keys.size() == table.size());
  const scenario defaults;
  const std::string yaml = to_yaml(defaults);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO(keys[i].path);
    CHECK(keys[i].path == table[i].info.path);
    CHECK(keys[i].default_value == table[i].emit(defaults));
    CHECK(keys[i].default_value == *key_value(defaults, keys[i].path));
    // Each default passes its own check and appears in the effective configuration.
    CHECK_FALSE(table[i].check(defaults));
    const auto dot = keys[i].path.rfind('.');
    const std::string leaf = dot == std::string::npos ? keys[i].path : keys[i].path.substr(dot + 1);
    CHECK(yaml.find(leaf + ": " + keys[i].default_value) != std::string::npos);
  }
  CHECK(keys.front().path == "name");
  CHECK(keys.front().default_value == "\"default\"");
}

TEST_CASE("scenario key types and allowed values read as documented", "[scenario]") {
  auto info = [](const std::string& path) { return schema::find_key(path)->info; };
  CHECK(info("population.clients").type == "unsigned integer");
  CHECK(info("population.clients").allowed == "[1, 4294967295]");
  CHECK(info("population.regions").allowed == "[1, 65535]");
  CHECK(info("training.lr").type == "number");
  CHECK(info("training.lr").allowed == "> 0");
  CHECK(info("training.momentum").allowed == "[0, 1)");
  CHECK(info("data.label_noise").allowed == "[0, 1]");
  CHECK(info("topology.routing").type == "enum");
  CHECK(info("topology.routing").allowed == "range, hash, region");
  CHECK(info("selection.strategy").allowed == "random, weighted, least_recent, oort");
  CHECK(info("model.hidden").type == "list of unsigned integers");
  CHECK(info("name").type == "string");
}

TEST_CASE("scenario edit distance counts insertions, deletions, swaps", "[scenario]") {
  CHECK(schema::edit_distance("seed", "seed") == 0);
  CHECK(schema::edit_distance("sed", "seed") == 1);
  CHECK(schema::edit_distance("lr", "rl") == 1);
  CHECK(schema::edit_distance("bach_size", "batch_size") == 1);
  CHECK(schema::edit_distance("", "abc") == 3);
  CHECK(schema::closest("hsh", {"range", "hash"}) == "hash");
  CHECK(schema::closest("foo", {"pool", "seed"}).empty());
  CHECK(schema::closest("training.bach_siz", {"training.batch_size"}) == "training.batch_size");
  CHECK(schema::closest("training.xy", {"training.lr"}).empty());
}
