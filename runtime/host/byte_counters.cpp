#include "runtime/host/byte_counters.hpp"

namespace fedactor {

const char* name_of(basp_kind k) {
  switch (k) {
    case basp_kind::handshake:
      return "handshake";
    case basp_kind::message:
      return "message";
    case basp_kind::monitor:
      return "monitor";
    case basp_kind::heartbeat:
      return "heartbeat";
  }
  return "?";
}

basp_kind kind_of_basp_op(unsigned op) {
  if (op <= 1) return basp_kind::handshake;
  if (op <= 3) return basp_kind::message;
  if (op <= 5) return basp_kind::monitor;
  return basp_kind::heartbeat;
}

void byte_counters::add_frames(std::array<std::atomic<uint64_t>, basp_kind_count>& into,
                               const std::array<uint64_t, 7>& by_op,
                               std::array<uint64_t, 7>& seen) {
  for (unsigned op = 0; op < 7; ++op) {
    const uint64_t grown = by_op[op] - seen[op];
    if (grown == 0) continue;
    into[static_cast<size_t>(kind_of_basp_op(op))].fetch_add(grown, std::memory_order_relaxed);
    seen[op] = by_op[op];
  }
}

void byte_counters::add_from_peer_frames(const std::array<uint64_t, 7>& by_op,
                                         std::array<uint64_t, 7>& seen) {
  add_frames(from_by_kind_, by_op, seen);
}

void byte_counters::add_to_peer_frames(const std::array<uint64_t, 7>& by_op,
                                       std::array<uint64_t, 7>& seen) {
  add_frames(to_by_kind_, by_op, seen);
}

namespace {

void add_growth(std::array<std::atomic<uint64_t>, message_kind_count>& into,
                const byte_counters::message_tally& by_kind, byte_counters::message_tally& seen) {
  for (size_t k = 0; k < message_kind_count; ++k) {
    const uint64_t grown = by_kind[k] - seen[k];
    if (grown == 0) continue;
    into[k].fetch_add(grown, std::memory_order_relaxed);
    seen[k] = by_kind[k];
  }
}

template <size_t N>
std::array<uint64_t, N> minus(const std::array<uint64_t, N>& a, const std::array<uint64_t, N>& b) {
  std::array<uint64_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = a[i] - b[i];
  return out;
}

}  // namespace

void byte_counters::add_from_peer_messages(const message_tally& by_kind, message_tally& seen) {
  add_growth(from_by_message_, by_kind, seen);
}

void byte_counters::add_to_peer_messages(const message_tally& by_kind, message_tally& seen) {
  add_growth(to_by_message_, by_kind, seen);
}

void byte_counters::add_peer_bytes(peer_kind k, uint64_t from, uint64_t to) {
  const auto i = static_cast<size_t>(k);
  if (from > 0) from_by_peer_[i].fetch_add(from, std::memory_order_relaxed);
  if (to > 0) to_by_peer_[i].fetch_add(to, std::memory_order_relaxed);
}

void byte_counters::move_peer_bytes(peer_kind from_kind, peer_kind to_kind, uint64_t from,
                                    uint64_t to) {
  const auto a = static_cast<size_t>(from_kind), b = static_cast<size_t>(to_kind);
  from_by_peer_[a].fetch_sub(from, std::memory_order_relaxed);
  to_by_peer_[a].fetch_sub(to, std::memory_order_relaxed);
  from_by_peer_[b].fetch_add(from, std::memory_order_relaxed);
  to_by_peer_[b].fetch_add(to, std::memory_order_relaxed);
}

byte_totals operator-(const byte_totals& a, const byte_totals& b) {
  byte_totals d;
  d.from_peers = a.from_peers - b.from_peers;
  d.to_peers = a.to_peers - b.to_peers;
  d.from_peers_by_kind = minus(a.from_peers_by_kind, b.from_peers_by_kind);
  d.to_peers_by_kind = minus(a.to_peers_by_kind, b.to_peers_by_kind);
  d.connections = a.connections - b.connections;
  d.from_peers_by_message = minus(a.from_peers_by_message, b.from_peers_by_message);
  d.to_peers_by_message = minus(a.to_peers_by_message, b.to_peers_by_message);
  d.from_peers_by_peer = minus(a.from_peers_by_peer, b.from_peers_by_peer);
  d.to_peers_by_peer = minus(a.to_peers_by_peer, b.to_peers_by_peer);
  return d;
}

byte_totals byte_counters::totals() const {
  byte_totals t;
  t.from_peers = from_peers_.load(std::memory_order_relaxed);
  t.to_peers = to_peers_.load(std::memory_order_relaxed);
  for (size_t k = 0; k < basp_kind_count; ++k) {
    t.from_peers_by_kind[k] = from_by_kind_[k].load(std::memory_order_relaxed);
    t.to_peers_by_kind[k] = to_by_kind_[k].load(std::memory_order_relaxed);
  }
  t.connections = connections_.load(std::memory_order_relaxed);
  for (size_t k = 0; k < message_kind_count; ++k) {
    t.from_peers_by_message[k] = from_by_message_[k].load(std::memory_order_relaxed);
    t.to_peers_by_message[k] = to_by_message_[k].load(std::memory_order_relaxed);
  }
  for (size_t k = 0; k < peer_kind_count; ++k) {
    t.from_peers_by_peer[k] = from_by_peer_[k].load(std::memory_order_relaxed);
    t.to_peers_by_peer[k] = to_by_peer_[k].load(std::memory_order_relaxed);
  }
  return t;
}

std::string describe(const byte_totals& t, const std::string& peers) {
  auto split = [](const std::array<uint64_t, basp_kind_count>& by,
                  const std::array<uint64_t, message_kind_count>& by_message) {
    std::string out = " (";
    for (size_t k = 0; k < basp_kind_count; ++k) {
      if (k > 0) out += ", ";
      out += std::string{name_of(static_cast<basp_kind>(k))} + " " + std::to_string(by[k]);
    }
    for (size_t k = 0; k < message_kind_count; ++k) {
      out += k == 0 ? "; " : ", ";
      out +=
          std::string{name_of(static_cast<message_kind>(k))} + " " + std::to_string(by_message[k]);
    }
    return out + ")";
  };
  std::string by_peer = "; by peer:";
  for (size_t k = 0; k < peer_kind_count; ++k)
    by_peer += std::string{k == 0 ? " " : ", "} + name_of(static_cast<peer_kind>(k)) + " " +
               std::to_string(t.to_peers_by_peer[k]) + " sent " +
               std::to_string(t.from_peers_by_peer[k]) + " received";
  return "with the " + peers + ": " + std::to_string(t.to_peers) + " bytes sent" +
         split(t.to_peers_by_kind, t.to_peers_by_message) + ", " + std::to_string(t.from_peers) +
         " received" + split(t.from_peers_by_kind, t.from_peers_by_message) + ", " +
         std::to_string(t.connections) + " connection" + (t.connections == 1 ? "" : "s") + by_peer;
}

}  // namespace fedactor
