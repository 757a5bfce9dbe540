#pragma once

// Checks the byte stream a peer sends to a listening node against CAF 0.17's BASP framing
// before CAF sees it (runtime/host/basp_guard.hpp). CAF trusts the framing: a handshake frame
// without payload makes libcaf_io 0.17.6 dereference a null payload (SIGSEGV on the
// multiplexer thread), and a frame header's 32-bit payload length makes it allocate that many
// bytes at once. Here every frame header is read whole and refused, with one line saying why,
// when its type is unknown, its fields do not fit its type (caf::io::basp::valid's rules), a
// handshake carries no payload, its payload exceeds the node's bound, or the first frame is not
// a handshake. Payloads are passed through unread (their contents are checked by the
// deserializers of fedactor's messages).
//
// A frame: a 32-byte header in network byte order — operation (1 byte), 2 padding bytes,
// flags (1), payload length (4), operation data (8), source actor (8), destination actor (8) —
// then that many payload bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/host/basp_message_kind.hpp"

namespace fedactor {

class basp_frame_check {
 public:
  static constexpr size_t header_size = 32;

  // Frames whose payload is larger than max_payload bytes are refused.
  explicit basp_frame_check(uint64_t max_payload);

  // The peer's next n bytes: nullopt while the stream is well-formed BASP, else what is
  // wrong (from then on every call returns the same).
  std::optional<std::string> feed(const char* data, size_t n);

  uint64_t frames() const { return frames_; }  // headers accepted so far

  // Bytes of well-formed frames so far by BASP operation (0 server handshake .. 6 heartbeat):
  // a frame's 32 header bytes once its header is accepted, its payload bytes as they pass.
  // Bytes of a refused header are in none (runtime/host/byte_counters.hpp).
  const std::array<uint64_t, 7>& bytes_by_op() const { return bytes_by_op_; }

  // Bytes of well-formed actor-message frames (direct and routed) so far by the kind of
  // message they carry (runtime/host/basp_message_kind.hpp): a frame's header and payload
  // bytes once the first max_peek_bytes of its payload (or all of it) tell its kind, then
  // its payload bytes as they pass. They sum to bytes_by_op()[2] + [3] at every frame end.
  const std::array<uint64_t, message_kind_count>& bytes_by_message() const {
    return bytes_by_message_;
  }

  // The kind of peer the stream's first registration names (host_join: a client host;
  // edge_join, edge_rejoin, child_join: an edge), once one has been read.
  std::optional<peer_kind> registered_as() const { return registered_as_; }

  // When the stream so far ends inside a frame (a header cut short, or a payload with bytes
  // still to come): what is missing, e.g. "frame 2: a direct message cut short after 10 of
  // 100 payload bytes"; nullopt at a frame boundary or after a refusal. A peer that closes or
  // falls silent here left a truncated frame (runtime/host/basp_guard).
  std::optional<std::string> incomplete() const;

 private:
  std::optional<std::string> check_header();
  void count_message_bytes(const char* data, size_t n);

  uint64_t max_payload_;
  std::array<unsigned char, header_size> header_{};
  size_t have_ = 0;            // header bytes collected
  uint64_t payload_left_ = 0;  // payload bytes still to pass through
  uint64_t payload_len_ = 0;   // the payload length of the frame being passed through
  unsigned op_ = 0;            // and its operation
  uint64_t frames_ = 0;
  std::array<uint64_t, 7> bytes_by_op_{};
  // The actor-message frame being passed through: its payload's first bytes until its kind
  // is known, the frame's bytes not yet counted by kind, and its kind once known.
  std::vector<unsigned char> peek_;
  uint64_t unclassified_ = 0;
  std::optional<message_kind> kind_;
  std::array<uint64_t, message_kind_count> bytes_by_message_{};
  std::optional<peer_kind> registered_as_;
  std::optional<std::string> wrong_;
};

}  // namespace fedactor
