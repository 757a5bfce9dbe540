#include "runtime/scenario/load.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "runtime/scenario/schema.hpp"

namespace fedactor {
namespace {

using schema::key_table;

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string parent_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string last_of(const std::string& path) {
  auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

// The names directly under a section ("" = top level), in table order.
std::vector<std::string> children_of(const std::string& section) {
  std::vector<std::string> out;
  for (const auto& e : key_table()) {
    const auto& p = e.info.path;
    std::string rest;
    if (section.empty()) {
      rest = p;
    } else if (p.size() > section.size() && p.compare(0, section.size(), section) == 0 &&
               p[section.size()] == '.') {
      rest = p.substr(section.size() + 1);
    } else {
      continue;
    }
    std::string child = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), child) == out.end()) out.push_back(child);
  }
  return out;
}

// Every key path and every section path: the names a typo may have meant.
std::vector<std::string> all_paths() {
  std::vector<std::string> out;
  for (const auto& e : key_table()) {
    std::string p = e.info.path;
    out.push_back(p);
    for (p = parent_of(p); !p.empty(); p = parent_of(p)) {
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    }
  }
  return out;
}

std::string unknown_key(const std::string& path) {
  if (auto c = schema::closest(path, all_paths()); !c.empty()) {
    return "unknown key (did you mean " + c + "?)";
  }
  const std::string last = last_of(path);
  for (const auto& e : key_table()) {
    if (last_of(e.info.path) == last) return "unknown key (did you mean " + e.info.path + "?)";
  }
  std::string section = parent_of(path);
  while (!section.empty() && !schema::is_section(section)) section = parent_of(section);
  std::string known;
  for (const auto& c : children_of(section)) known += (known.empty() ? "" : ", ") + c;
  return "unknown key (known " + (section.empty() ? "top-level keys" : "keys in " + section) +
         ": " + known + ")";
}

// Keys that moved: a one-line error naming the new key instead of "unknown key".
std::optional<std::string> moved_key(const std::string& path) {
  if (path == "protocol.server_lr" || path == "async.server_lr")
    return std::string{
        "moved to strategy.server_lr (one server optimizer for sync rounds and "
        "FedBuff steps, strategy.server_optimizer; see docs/strategies.md)"};
  return std::nullopt;
}

std::string located(const std::string& origin, int line, const std::string& path,
                    const std::string& what) {
  std::string where = origin;
  if (line >= 0) where += ":" + std::to_string(line + 1);
  return where + ": " + (path.empty() ? "" : path + ": ") + what;
}

// yaml-cpp 0.7 (Debian 12) never returns from a text where a line begins with ',' below an
// indented block mapping (" b: 1\n,0", found by fuzz/scenario_load.cpp). Such a line is
// refused before yaml-cpp sees the text: the line (0-based) of the first one, if any.
std::optional<int> line_starting_with_comma(const std::string& text) {
  int line = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const size_t first = text.find_first_not_of(" \t", at);
    if (first < end && text[first] == ',') return line;
    ++line;
    at = end + 1;
  }
  return std::nullopt;
}

constexpr const char* comma_line_error =
    "a line starting with ',' (put a flow entry's comma at the end of the line before)";

int line_of(const YAML::Mark& m) {
  return m.is_null() ? -1 : m.line;
}

// Walks YAML mappings, matching every leaf against the key table, writing into `s`.
struct walker {
  std::string origin;
  bool with_lines;  // false for --set: the origin has no lines
  scenario& s;

  scenario_error fail(int line, const std::string& path, const std::string& what) const {
    return {located(origin, with_lines ? line : -1, path, what)};
  }

  std::optional<scenario_error> walk_map(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, int> seen;  // key -> 0-based line
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const int line = line_of(key.Mark());
      if (!key.IsScalar()) {
        return fail(line, prefix,
                    "keys must be plain names, got " + schema::describe(key) + " as a key");
      }
      const std::string path = join(prefix, key.Scalar());
      auto [first, inserted] = seen.emplace(key.Scalar(), line);
      if (!inserted) {
        return fail(line, path,
                    with_lines && first->second >= 0
                        ? "given twice (first at line " + std::to_string(first->second + 1) + ")"
                        : "given twice");
      }
      if (auto err = assign(value, path, line)) return err;
    }
    return std::nullopt;
  }

  std::optional<scenario_error> assign(const YAML::Node& value, const std::string& path, int line) {
    if (const auto* e = schema::find_key(path)) {
      if (auto err = e->read(value, s)) {
        return fail(err->line >= 0 ? err->line : line, path + err->suffix, err->what);
      }
      if (path == "events") {
        // The reader left each event's 1-based line: validate() names it with the origin.
        for (auto& ev : s.events) ev.where = with_lines ? origin + ":" + ev.where : origin;
      }
      return std::nullopt;
    }
    if (schema::is_section(path)) {
      if (value.IsNull()) return std::nullopt;  // "training:" with nothing under it
      if (!value.IsMap()) {
        return fail(line, path,
                    "is a section, expected a mapping of its keys, got " + schema::describe(value));
      }
      return walk_map(value, path);
    }
    if (auto moved = moved_key(path)) return fail(line, path, *moved);
    return fail(line, path, unknown_key(path));
  }
};

}  // namespace

static std::optional<scenario_error> load_text_as_given(const std::string& yaml,
                                                        const std::string& origin, scenario& out) {
  if (auto line = line_starting_with_comma(yaml))
    return scenario_error{located(origin, *line, "", comma_line_error)};
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    return scenario_error{located(origin, line_of(e.mark), "", "YAML syntax error: " + e.msg)};
  }
  docs.erase(
      std::remove_if(docs.begin(), docs.end(), [](const YAML::Node& d) { return d.IsNull(); }),
      docs.end());
  if (docs.empty()) {
    return scenario_error{origin +
                          ":1: empty scenario, expected a mapping of keys such as "
                          "'population: {clients: 1000}'"};
  }
  if (docs.size() > 1) {
    return scenario_error{
        located(origin, line_of(docs[1].Mark()), "",
                "expected one YAML document, found " + std::to_string(docs.size()))};
  }
  const YAML::Node& root = docs.front();
  if (!root.IsMap()) {
    return scenario_error{
        located(origin, line_of(root.Mark()), "",
                "the top level must be a mapping of keys, got " + schema::describe(root))};
  }
  scenario s = out;
  walker w{origin, true, s};
  try {
    if (auto err = w.walk_map(root, "")) return err;
  } catch (const YAML::Exception& e) {
    return scenario_error{located(origin, line_of(e.mark), "", e.msg)};
  }
  out = std::move(s);
  return std::nullopt;
}

std::optional<scenario_error> load_scenario_file(const std::string& path, scenario& out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return scenario_error{path + ": cannot read: is a directory"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return scenario_error{path + ": cannot open: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return scenario_error{path + ": cannot read: " + std::strerror(errno)};
  return load_scenario_text(text.str(), path, out);
}

static std::optional<scenario_error> apply_override_as_given(const std::string& assignment,
                                                             scenario& out) {
  const std::string origin = "--set";
  auto eq = assignment.find('=');
  auto trim = [](std::string x) {
    const char* space = " \t\r\n";
    auto b = x.find_first_not_of(space);
    if (b == std::string::npos) return std::string();
    return x.substr(b, x.find_last_not_of(space) - b + 1);
  };
  const std::string path = eq == std::string::npos ? "" : trim(assignment.substr(0, eq));
  if (path.empty()) {
    return scenario_error{origin + ": expected path=value (e.g. training.lr=0.1), got '" +
                          assignment + "'"};
  }
  const std::string text = assignment.substr(eq + 1);
  if (line_starting_with_comma(text))
    return scenario_error{origin + ": " + path + ": cannot parse value '" + text +
                          "': " + comma_line_error};
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return scenario_error{origin + ": " + path + ": cannot parse value '" + text + "': " + e.msg};
  }
  scenario s = out;
  walker w{origin, false, s};
  try {
    if (auto err = w.assign(value, path, -1)) return err;
  } catch (const YAML::Exception& e) {
    return w.fail(-1, path, e.msg);
  }
  out = std::move(s);
  return std::nullopt;
}

static std::optional<scenario_error> validate_as_given(const scenario& s) {
  auto fail = [](const std::string& path, const std::string& what) {
    return scenario_error{"scenario: " + path + ": " + what};
  };
  for (const auto& e : key_table()) {
    if (auto what = e.check(s)) return fail(e.info.path, *what);
  }
  if (s.selection.clients_per_round > s.population.clients) {
    return fail("selection.clients_per_round",
                "must be <= population.clients (" + std::to_string(s.population.clients) +
                    "), got " + std::to_string(s.selection.clients_per_round));
  }
  if (s.protocol.mode == protocol_mode::sync && s.selection.over_select > 0) {
    // ceil(k (1 + o)) = k + ceil(k o); the slack keeps 100 x 0.07 (7.000000000000001) at 7.
    const double k = s.selection.clients_per_round;
    const double sampled = k + std::ceil(k * s.selection.over_select * (1 - 1e-12));
    if (sampled > static_cast<double>(s.population.clients)) {
      char got[32];
      std::snprintf(got, sizeof got, "%.17g", sampled);
      return fail("selection.over_select",
                  "ceil(clients_per_round x (1 + over_select)) must be <= population.clients (" +
                      std::to_string(s.population.clients) + "), got " + got);
    }
  }
  if (s.protocol.mode == protocol_mode::async && s.async.concurrency > s.population.clients) {
    return fail("async.concurrency", "must be <= population.clients (" +
                                         std::to_string(s.population.clients) + "), got " +
                                         std::to_string(s.async.concurrency));
  }
  if (s.topology.edges > s.population.clients) {
    return fail("topology.edges", "must be <= population.clients (" +
                                      std::to_string(s.population.clients) + "), got " +
                                      std::to_string(s.topology.edges));
  }
  if (s.data.min_samples >= s.data.max_samples) {
    return fail("data.min_samples", "must be < data.max_samples (" +
                                        std::to_string(s.data.max_samples) + "), got " +
                                        std::to_string(s.data.min_samples));
  }
  if (s.pool.max_live_clients < s.topology.edges) {
    return fail("pool.max_live_clients", "must be >= topology.edges (" +
                                             std::to_string(s.topology.edges) +
                                             ", each edge needs one live client slot), got " +
                                             std::to_string(s.pool.max_live_clients));
  }
  if (s.strategy.client == client_algorithm::scaffold && s.protocol.mode != protocol_mode::sync) {
    return fail("strategy.client",
                "scaffold needs protocol.mode sync (its control variates are updated once per "
                "synchronous round), got protocol.mode async");
  }
  if (auto what = schema::check_events(s)) return scenario_error{*what};
  return std::nullopt;
}

namespace {

// Errors quote keys and values from the file or the command line: a control character in
// one (a quoted "\n", a NUL) is written escaped, so that every error stays one line.
std::optional<scenario_error> one_line(std::optional<scenario_error> err) {
  if (!err) return err;
  std::string out;
  for (char c : err->message) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  err->message = std::move(out);
  return err;
}

}  // namespace

std::optional<scenario_error> load_scenario_text(const std::string& yaml, const std::string& origin,
                                                 scenario& out) {
  return one_line(load_text_as_given(yaml, origin, out));
}

std::optional<scenario_error> apply_override(const std::string& assignment, scenario& out) {
  return one_line(apply_override_as_given(assignment, out));
}

std::optional<scenario_error> validate(const scenario& s) {
  return one_line(validate_as_given(s));
}

namespace {

// Key paths as a tree (first appearance order) so that to_yaml groups sections however the
// table is ordered and however deep paths go.
struct tree_node {
  std::string name;
  const schema::key_entry* entry = nullptr;
  std::vector<tree_node> children;
};

tree_node key_tree() {
  tree_node root;
  for (const auto& e : key_table()) {
    tree_node* at = &root;
    std::string rest = e.info.path;
    for (;;) {
      auto dot = rest.find('.');
      std::string name = rest.substr(0, dot);
      auto it = std::find_if(at->children.begin(), at->children.end(),
                             [&](const tree_node& c) { return c.name == name; });
      if (it == at->children.end()) {
        at->children.push_back({name, nullptr, {}});
        it = at->children.end() - 1;
      }
      at = &*it;
      if (dot == std::string::npos) break;
      rest = rest.substr(dot + 1);
    }
    at->entry = &e;
  }
  return root;
}

void emit_tree(const tree_node& node, const scenario& s, std::size_t depth, std::string& out) {
  const std::string indent(2 * depth, ' ');
  std::size_t width = 0;  // align the comments of a section's leaves
  for (const auto& c : node.children) {
    if (c.entry) width = std::max(width, c.name.size() + 2 + c.entry->emit(s).size());
  }
  for (const auto& c : node.children) {
    if (c.entry) {
      std::string line = indent + c.name + ": " + c.entry->emit(s);
      line.resize(indent.size() + width, ' ');
      out += line + "  # " + c.entry->info.doc + "\n";
    } else {
      if (depth == 0) out += "\n";
      out += indent + c.name + ":\n";
      emit_tree(c, s, depth + 1, out);
    }
  }
}

}  // namespace

std::string to_yaml(const scenario& s) {
  std::string out = "# fedactor scenario, effective configuration (keys: docs/scenarios.md)\n";
  emit_tree(key_tree(), s, 0, out);
  return out;
}

std::vector<key_info> scenario_keys() {
  const scenario defaults;
  std::vector<key_info> out;
  for (const auto& e : key_table()) {
    out.push_back(e.info);
    out.back().default_value = e.emit(defaults);
  }
  return out;
}

std::optional<std::string> key_value(const scenario& s, const std::string& path) {
  if (const auto* e = schema::find_key(path)) return e->emit(s);
  return std::nullopt;
}

}  // namespace fedactor
