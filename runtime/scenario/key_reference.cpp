#include "runtime/scenario/key_reference.hpp"

#include <algorithm>
#include <cstddef>

#include <nlohmann/json.hpp>

namespace fedactor {

namespace {

std::string md_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string code(const std::string& text) {
  return "`" + md_cell(text) + "`";
}

// "range, hash" -> "`range`, `hash`" for enums and booleans; other allowed texts as they are.
std::string md_allowed(const key_info& k) {
  if (k.type != "enum" && k.type.rfind("boolean", 0) != 0) return md_cell(k.allowed);
  std::string out;
  std::size_t from = 0;
  while (from <= k.allowed.size()) {
    auto to = k.allowed.find(", ", from);
    if (to == std::string::npos) to = k.allowed.size();
    out += (out.empty() ? "" : ", ") + code(k.allowed.substr(from, to - from));
    from = to + 2;
  }
  return out;
}

std::string pad(const std::string& s, std::size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

}  // namespace

std::string keys_text(const std::vector<key_info>& keys) {
  std::size_t w_path = 3, w_type = 4, w_allowed = 7, w_default = 7;
  for (const auto& k : keys) {
    w_path = std::max(w_path, k.path.size());
    w_type = std::max(w_type, k.type.size());
    w_allowed = std::max(w_allowed, k.allowed.size());
    w_default = std::max(w_default, k.default_value.size());
  }
  auto line = [&](const std::string& p, const std::string& t, const std::string& a,
                  const std::string& d, const std::string& doc) {
    return pad(p, w_path) + "  " + pad(t, w_type) + "  " + pad(a, w_allowed) + "  " +
           pad(d, w_default) + "  " + doc + "\n";
  };
  std::string out = line("KEY", "TYPE", "ALLOWED", "DEFAULT", "MEANING");
  for (const auto& k : keys) out += line(k.path, k.type, k.allowed, k.default_value, k.doc);
  return out;
}

std::string keys_markdown(const std::vector<key_info>& keys) {
  std::string out =
      "| key | type | allowed | default | meaning |\n"
      "|---|---|---|---|---|\n";
  for (const auto& k : keys) {
    out += "| " + code(k.path) + " | " + md_cell(k.type) + " | " + md_allowed(k) + " | " +
           code(k.default_value) + " | " + md_cell(k.doc) + " |\n";
  }
  return out;
}

std::string keys_json(const std::vector<key_info>& keys) {
  std::string out = "[\n";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    nlohmann::ordered_json j{{"key", k.path},
                             {"type", k.type},
                             {"allowed", k.allowed},
                             {"default", k.default_value},
                             {"doc", k.doc}};
    out += "  " + j.dump() + (i + 1 < keys.size() ? ",\n" : "\n");
  }
  return out + "]\n";
}

}  // namespace fedactor
