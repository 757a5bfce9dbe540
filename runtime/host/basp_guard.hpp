#pragma once

// The guard in front of a node's plain-TCP listening port. CAF 0.17's middleman takes any
// bytes a peer sends as BASP, and libcaf_io 0.17.6 crashes or allocates without bound on a
// malformed frame header (runtime/host/basp_frame_check.hpp), before any authentication: one
// unauthenticated packet could kill a server or an edge. So in plain TCP the node's actor is
// published on 127.0.0.1 at a port of its own, and the guard listens where the node was asked
// to: it relays each peer's connection to that inner port, checks every frame header the peer
// sends before it passes it on, and on the first malformed one logs one line naming the peer
// and what was wrong, and closes that connection (CAF sees an ordinary disconnect). A peer
// that closes inside a frame, or falls silent there for `frame_timeout`, is logged the same
// way (and dropped when silent). Other peers are not affected. Replies from the node are relayed as
// they are. With TLS the guard is not used: CAF's TLS layer refuses a peer without a certificate of
// the node's CA before any BASP byte is read (docs/security.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/host/byte_counters.hpp"

namespace fedactor {

struct basp_guard_config {
  std::string host = "127.0.0.1";    // the interface peers connect to; "0.0.0.0": every one
  uint16_t port = 0;                 // 0: a free port (port() says which)
  uint16_t inner_port = 0;           // the node's CAF port on 127.0.0.1
  uint64_t max_payload = 64u << 20;  // bytes per frame
  uint32_t max_connections = 1024;   // connections relayed at once; more are refused
  // A peer that stops sending inside a frame (a header or payload cut short) for this long is
  // dropped with a line: its connection would otherwise stay open, half a frame read, for
  // ever. Nodes use their connection timeout (listen_on).
  std::chrono::milliseconds frame_timeout = std::chrono::seconds(5);
  std::function<void(const std::string&)> log;
};

class basp_guard {
 public:
  // Listening when it returns (its own thread relays). Throws std::runtime_error naming the
  // address when it cannot listen there.
  explicit basp_guard(basp_guard_config cfg);
  ~basp_guard();  // closes every connection and stops
  basp_guard(const basp_guard&) = delete;
  basp_guard& operator=(const basp_guard&) = delete;

  uint16_t port() const;
  uint64_t refused() const;    // connections closed for malformed framing so far
  uint64_t truncated() const;  // connections closed or dropped inside a frame so far
  // The bytes relayed so far, both ways, by BASP frame kind (runtime/host/byte_counters.hpp).
  byte_totals bytes() const;

  struct impl;  // the relay machinery (basp_guard.cpp)

 private:
  std::shared_ptr<impl> impl_;
};

// The peer ("IP:port") whose connection a guard of this process relays from 127.0.0.1:port —
// the address the node's CAF middleman sees for that peer, as the guard's inner connection
// comes from there. Empty when no relay open now uses that port. Process-wide, thread-safe.
std::optional<std::string> guarded_peer_origin(uint16_t relay_port);

}  // namespace fedactor
