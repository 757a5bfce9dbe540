#include "runtime/host/basp_message_kind.hpp"

#include <algorithm>
#include <map>

#include <caf/atom.hpp>

namespace fedactor {

namespace {

// A bounded reader over the payload prefix: every read says whether the bytes were there.
struct reader {
  const unsigned char* p;
  size_t n;
  size_t at = 0;

  bool skip(size_t k) {
    if (n - at < k) return false;
    at += k;
    return true;
  }
  bool u64(uint64_t& v) {
    if (n - at < 8) return false;
    v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[at + i];
    at += 8;
    return true;
  }
  // CAF's varbyte length (at most 5 bytes for its 32-bit sizes).
  bool varbyte(uint32_t& v, bool& bad) {
    v = 0;
    for (size_t i = 0; i < 5; ++i) {
      if (at >= n) return false;
      const unsigned char b = p[at++];
      v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return true;
    }
    bad = true;
    return true;
  }
};

enum class step { ok, more, bad };

// A node id: atom(""), or atom("default") with a process id and a host id.
step skip_node_id(reader& r) {
  uint64_t impl = 0;
  if (!r.u64(impl)) return step::more;
  if (impl == static_cast<uint64_t>(caf::atom(""))) return step::ok;
  if (impl != static_cast<uint64_t>(caf::atom("default"))) return step::bad;  // uri: not read
  return r.skip(4 + 20) ? step::ok : step::more;
}

step skip_forwarding_stack(reader& r) {
  uint32_t count = 0;
  bool bad = false;
  if (!r.varbyte(count, bad)) return step::more;
  if (bad || count > 16) return step::bad;
  for (uint32_t i = 0; i < count; ++i) {
    if (!r.skip(8)) return step::more;  // actor id
    if (auto s = skip_node_id(r); s != step::ok) return s;
  }
  return step::ok;
}

const std::map<std::string, message_kind>& kinds_by_type() {
  static const std::map<std::string, message_kind> m{
      {"fedactor::train_ins", message_kind::task},
      {"fedactor::host_task", message_kind::task},
      {"fedactor::host_batch", message_kind::task},
      {"fedactor::async_ins", message_kind::task},
      {"fedactor::edge_ins", message_kind::model},
      {"fedactor::eval_ins", message_kind::model},
      {"fedactor::run_report", message_kind::model},
      {"fedactor::train_res", message_kind::result},
      {"fedactor::async_res", message_kind::result},
      {"fedactor::eval_res", message_kind::result},
      {"fedactor::edge_res", message_kind::aggregate},
  };
  return m;
}

}  // namespace

const char* name_of(message_kind k) {
  static const char* const names[] = {"task", "model", "result", "aggregate", "control", "other"};
  const auto i = static_cast<size_t>(k);
  return i < message_kind_count ? names[i] : "?";
}

message_kind kind_of_type_name(const std::string& first_type) {
  const auto& m = kinds_by_type();
  auto it = m.find(first_type);
  return it == m.end() ? message_kind::control : it->second;
}

std::optional<payload_head> read_basp_payload_head(unsigned op, const unsigned char* data, size_t n,
                                                   bool complete) {
  n = std::min(n, max_peek_bytes);
  const bool final = complete || n == max_peek_bytes;
  const std::optional<payload_head> more =
      final ? std::optional<payload_head>{payload_head{}} : std::nullopt;
  const payload_head unreadable{};
  auto named = [](const std::string& type) { return payload_head{kind_of_type_name(type), type}; };
  reader r{data, n};
  if (op == 3) {  // routed: source and destination node first
    for (int i = 0; i < 2; ++i) {
      const auto s = skip_node_id(r);
      if (s == step::more) return more;
      if (s == step::bad) return unreadable;
    }
  } else if (op != 2) {
    return unreadable;
  }
  if (const auto s = skip_forwarding_stack(r); s != step::ok)
    return s == step::more ? more : std::optional<payload_head>{unreadable};
  // begin_object(0, name): uint16 0, then the name.
  if (!r.skip(2)) return more;
  if (data[r.at - 2] != 0 || data[r.at - 1] != 0) return unreadable;
  uint32_t len = 0;
  bool bad = false;
  if (!r.varbyte(len, bad)) return more;
  if (bad) return unreadable;
  static const std::string prefix = "@<>";
  const size_t have = std::min<size_t>(len, n - r.at);
  const std::string name(reinterpret_cast<const char*>(data + r.at), have);
  // The first element's name ends at the next '+' or with the whole name.
  if (name.compare(0, std::min(have, prefix.size()), prefix, 0, std::min(have, prefix.size())) != 0)
    return unreadable;
  if (have < prefix.size()) return more;
  if (len == prefix.size()) return named("");
  if (have == prefix.size()) return more;
  if (name[prefix.size()] != '+') return unreadable;
  const size_t start = prefix.size() + 1;
  const size_t end = name.find('+', start);
  if (end == std::string::npos && have < len) return more;
  return named(name.substr(start, end == std::string::npos ? end : end - start));
}

std::optional<message_kind> classify_basp_payload(unsigned op, const unsigned char* data, size_t n,
                                                  bool complete) {
  auto head = read_basp_payload_head(op, data, n, complete);
  if (!head) return std::nullopt;
  return head->kind;
}

const char* name_of(peer_kind k) {
  switch (k) {
    case peer_kind::edge:
      return "edges";
    case peer_kind::client_host:
      return "client hosts";
    case peer_kind::unregistered:
      return "unregistered peers";
  }
  return "?";
}

std::optional<peer_kind> registering_peer(const std::string& first_type) {
  if (first_type == "fedactor::host_join") return peer_kind::client_host;
  if (first_type == "fedactor::edge_join" || first_type == "fedactor::edge_rejoin" ||
      first_type == "fedactor::child_join")
    return peer_kind::edge;
  return std::nullopt;
}

}  // namespace fedactor
