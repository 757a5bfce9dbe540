#pragma once

// The bytes a listening node exchanges with its peers over plain TCP, as its basp_guard relays
// them (runtime/host/basp_guard.hpp): every byte read from a peer's socket and written to it,
// framing included — exactly what the kernel carries as TCP payload on those connections
// (tests/runtime/host/byte_counters_test.cpp compares them with TCP_INFO), split by BASP frame
// kind: handshakes, actor messages (direct and routed: tasks, results, models, aggregates,
// registrations — fedactor's own messages), monitor/down messages, heartbeats; and the actor
// messages' bytes again by the kind of fedactor message they carry (task, model, result,
// aggregate, control, other: runtime/host/basp_message_kind.hpp). Each link is
// counted at its listening end: the server counts its edges' links, an edge its client hosts'.
// With TLS there is no guard: runtime/host/tls_byte_meter.hpp fills the same counters from
// libssl (the totals and the split by peer kind are the encrypted bytes, the splits by frame
// and message kind those of the decrypted BASP stream).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "runtime/host/basp_message_kind.hpp"

namespace fedactor {

enum class basp_kind : size_t { handshake = 0, message = 1, monitor = 2, heartbeat = 3 };
constexpr size_t basp_kind_count = 4;

// "handshake", "message", "monitor", "heartbeat".
const char* name_of(basp_kind k);
// The kind of a BASP operation: 0, 1 handshake; 2, 3 message; 4, 5 monitor; 6 heartbeat.
basp_kind kind_of_basp_op(unsigned op);

struct byte_totals {
  uint64_t from_peers = 0;                                     // every byte read from peers
  uint64_t to_peers = 0;                                       // every byte written to peers
  std::array<uint64_t, basp_kind_count> from_peers_by_kind{};  // of well-formed frames
  std::array<uint64_t, basp_kind_count> to_peers_by_kind{};
  uint64_t connections = 0;  // peer connections relayed so far
  // The message kind's bytes, by message kind: they sum to *_by_kind[message] (frames whose
  // kind is still being read are in neither).
  std::array<uint64_t, message_kind_count> from_peers_by_message{};
  std::array<uint64_t, message_kind_count> to_peers_by_message{};
  // from_peers / to_peers by the kind of peer (edges, client hosts, unregistered peers): a
  // connection's bytes count as unregistered until the peer's registration (host_join, or
  // edge_join / edge_rejoin / child_join) has been read, then all of them as that kind's.
  std::array<uint64_t, peer_kind_count> from_peers_by_peer{};
  std::array<uint64_t, peer_kind_count> to_peers_by_peer{};
};

// a - b, field by field (the bytes of a round: the totals at its end less those at its start).
byte_totals operator-(const byte_totals& a, const byte_totals& b);

// Thread-safe; shared by a guard's relays.
class byte_counters {
 public:
  void add_from_peer(uint64_t n) { from_peers_.fetch_add(n, std::memory_order_relaxed); }
  void add_to_peer(uint64_t n) { to_peers_.fetch_add(n, std::memory_order_relaxed); }
  // Adds the growth of a frame check's per-operation tally since `seen` (which it updates).
  void add_from_peer_frames(const std::array<uint64_t, 7>& by_op, std::array<uint64_t, 7>& seen);
  void add_to_peer_frames(const std::array<uint64_t, 7>& by_op, std::array<uint64_t, 7>& seen);
  // The same for a frame check's tally by message kind.
  using message_tally = std::array<uint64_t, message_kind_count>;
  void add_from_peer_messages(const message_tally& by_kind, message_tally& seen);
  void add_to_peer_messages(const message_tally& by_kind, message_tally& seen);
  void add_connection() { connections_.fetch_add(1, std::memory_order_relaxed); }
  // A connection's bytes from / to its peer of kind k.
  void add_peer_bytes(peer_kind k, uint64_t from, uint64_t to);
  // A connection whose peer turned out to be of kind `to_kind`: the bytes it counted as
  // `from_kind` so far move there.
  void move_peer_bytes(peer_kind from_kind, peer_kind to_kind, uint64_t from, uint64_t to);

  byte_totals totals() const;

 private:
  static void add_frames(std::array<std::atomic<uint64_t>, basp_kind_count>& into,
                         const std::array<uint64_t, 7>& by_op, std::array<uint64_t, 7>& seen);

  std::atomic<uint64_t> from_peers_{0};
  std::atomic<uint64_t> to_peers_{0};
  std::array<std::atomic<uint64_t>, basp_kind_count> from_by_kind_{};
  std::array<std::atomic<uint64_t>, basp_kind_count> to_by_kind_{};
  std::atomic<uint64_t> connections_{0};
  std::array<std::atomic<uint64_t>, message_kind_count> from_by_message_{};
  std::array<std::atomic<uint64_t>, message_kind_count> to_by_message_{};
  std::array<std::atomic<uint64_t>, peer_kind_count> from_by_peer_{};
  std::array<std::atomic<uint64_t>, peer_kind_count> to_by_peer_{};
};

// One line for a node's log: "with the edges: 1234 bytes sent (handshake 82, message 1000,
// monitor 0, heartbeat 152; task 0, model 900, result 0, aggregate 0, control 100, other 0),
// 5678 received (...), 2 connections; by peer: edges 0 sent 0 received, client hosts 1234 sent
// 5678 received, unregistered peers 0 sent 0 received".
std::string describe(const byte_totals& t, const std::string& peers);

}  // namespace fedactor
