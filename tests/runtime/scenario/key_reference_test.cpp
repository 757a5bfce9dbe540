#include "runtime/scenario/key_reference.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include "tests/support/test_paths.hpp"

using namespace fedactor;

namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(FEDACTOR_SOURCE_DIR) + "/" + relative);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

const std::vector<key_info> sample_keys{
    {"a", "enum", "x, y", "x", "pick x or y"},
    {"sec.long_name", "number", "> 0", "0.5", "a | b"},
    {"b", "boolean or default", "true, false, default", "true", "flag"},
};

}  // namespace

TEST_CASE("key reference text aligns every column after a header", "[scenario][keys]") {
  CHECK(keys_text(sample_keys) ==
        "KEY            TYPE                ALLOWED               DEFAULT  MEANING\n"
        "a              enum                x, y                  x        pick x or y\n"
        "sec.long_name  number              > 0                   0.5      a | b\n"
        "b              boolean or default  true, false, default  true     flag\n");
}

TEST_CASE("key reference markdown quotes paths, defaults and enum values and escapes pipes",
          "[scenario][keys]") {
  CHECK(keys_markdown(sample_keys) ==
        "| key | type | allowed | default | meaning |\n"
        "|---|---|---|---|---|\n"
        "| `a` | enum | `x`, `y` | `x` | pick x or y |\n"
        "| `sec.long_name` | number | > 0 | `0.5` | a \\| b |\n"
        "| `b` | boolean or default | `true`, `false`, `default` | `true` | flag |\n");
}

TEST_CASE("key reference json holds one object per key with every field", "[scenario][keys]") {
  CHECK(keys_json(sample_keys) ==
        "[\n"
        "  {\"key\":\"a\",\"type\":\"enum\",\"allowed\":\"x, y\",\"default\":\"x\","
        "\"doc\":\"pick x or y\"},\n"
        "  {\"key\":\"sec.long_name\",\"type\":\"number\",\"allowed\":\"> 0\",\"default\":\"0.5\","
        "\"doc\":\"a | b\"},\n"
        "  {\"key\":\"b\",\"type\":\"boolean or default\",\"allowed\":\"true, false, default\","
        "\"default\":\"true\",\"doc\":\"flag\"}\n"
        "]\n");
  CHECK(keys_json({}) == "[\n]\n");
}

TEST_CASE("key reference of the schema lists every key in table order with its default",
          "[scenario][keys]") {
  const auto keys = scenario_keys();
  const auto md = lines_of(keys_markdown(keys));
  REQUIRE(md.size() == keys.size() + 2);
  const auto text = lines_of(keys_text(keys));
  REQUIRE(text.size() == keys.size() + 1);
  const auto json = nlohmann::json::parse(keys_json(keys));
  REQUIRE(json.size() == keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    INFO(k.path);
    CHECK(md[i + 2].rfind("| `" + k.path + "` | ", 0) == 0);
    CHECK(md[i + 2].find(" | `" + k.default_value + "` | ") != std::string::npos);
    CHECK(text[i + 1].rfind(k.path + " ", 0) == 0);
    CHECK(text[i + 1].find("  " + k.default_value + " ") != std::string::npos);
    CHECK(json[i]["key"] == k.path);
    CHECK(json[i]["type"] == k.type);
    CHECK(json[i]["allowed"] == k.allowed);
    CHECK(json[i]["default"] == k.default_value);
    CHECK(json[i]["doc"] == k.doc);
  }
}

TEST_CASE("docs/scenarios.md key reference equals fedactor scenario keys --format markdown",
          "[scenario][keys]") {
  const std::string docs = read_source_file("docs/scenarios.md");
  const std::string begin = "<!-- keys:begin -->\n";
  const auto from = docs.find(begin);
  REQUIRE(from != std::string::npos);
  const auto to = docs.find("<!-- keys:end -->", from);
  REQUIRE(to != std::string::npos);
  const std::string in_docs = docs.substr(from + begin.size(), to - from - begin.size());
  // The binary's output, not this process's scenario_keys(): the test binary registers a
  // server optimizer kind of its own, which strategy.server_optimizer's allowed values list.
  FILE* p =
      popen(("timeout 60 '" + FEDACTOR_BINARY + "' scenario keys --format markdown").c_str(), "r");
  REQUIRE(p != nullptr);
  std::string generated;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) generated.append(buf, n);
  REQUIRE(pclose(p) == 0);
  INFO(
      "docs/scenarios.md's key reference is out of date: run `make docs-keys` (it writes "
      "`build/fedactor scenario keys --format markdown` between the keys:begin and keys:end "
      "markers)");
  CHECK(in_docs == generated);
  CHECK(lines_of(in_docs).size() == scenario_keys().size() + 2);
}
