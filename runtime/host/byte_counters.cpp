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

byte_totals byte_counters::totals() const {
  byte_totals t;
  t.from_peers = from_peers_.load(std::memory_order_relaxed);
  t.to_peers = to_peers_.load(std::memory_order_relaxed);
  for (size_t k = 0; k < basp_kind_count; ++k) {
    t.from_peers_by_kind[k] = from_by_kind_[k].load(std::memory_order_relaxed);
    t.to_peers_by_kind[k] = to_by_kind_[k].load(std::memory_order_relaxed);
  }
  t.connections = connections_.load(std::memory_order_relaxed);
  return t;
}

std::string describe(const byte_totals& t, const std::string& peers) {
  auto split = [](const std::array<uint64_t, basp_kind_count>& by) {
    std::string out = " (";
    for (size_t k = 0; k < basp_kind_count; ++k) {
      if (k > 0) out += ", ";
      out += std::string{name_of(static_cast<basp_kind>(k))} + " " + std::to_string(by[k]);
    }
    return out + ")";
  };
  return "with the " + peers + ": " + std::to_string(t.to_peers) + " bytes sent" +
         split(t.to_peers_by_kind) + ", " + std::to_string(t.from_peers) + " received" +
         split(t.from_peers_by_kind) + ", " + std::to_string(t.connections) + " connection" +
         (t.connections == 1 ? "" : "s");
}

}  // namespace fedactor
