#pragma once

// Hand-built BASP streams and the kernel's byte counts of a loopback connection: for the tests
// that compare a node's byte counters with what the kernel carried (runtime/host/byte_counters
// through the BASP guard, runtime/host/tls_byte_meter through TLS).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/raw_peer.hpp"

namespace fedactor::testing {

// A BASP frame of operation `op` with `payload` payload bytes whose header fields satisfy the
// frame check: handshakes carry operation data, messages a destination actor.
// A direct message (op 2) with `type` names its message as CAF writes it at the head of the
// payload: an empty forwarding stack, uint16 0, the length of "@<>+" + type, that name.
inline std::vector<char> frame(uint8_t op, uint32_t payload, const std::string& type = "") {
  auto out = basp_header(op, payload);
  if (op == 0) out[15] = 1;  // server handshake: operation data != 0
  if (op == 2) out[31] = 7;  // direct message: destination actor != 0
  std::vector<char> body(payload, 'x');
  if (!type.empty()) {
    const std::string name = "@<>+" + type;
    REQUIRE(name.size() < 128);
    std::vector<char> head{0, 0, 0, static_cast<char>(name.size())};
    head.insert(head.end(), name.begin(), name.end());
    REQUIRE(head.size() <= payload);
    std::copy(head.begin(), head.end(), body.begin());
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

inline std::vector<char> concat(const std::vector<std::vector<char>>& parts) {
  std::vector<char> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The kernel's struct tcp_info goes on where glibc's (netinet/tcp.h) stops: pacing rates,
// then RFC 4898's tcpEStatsAppHCThruOctetsAcked and ...Received (linux/tcp.h:
// tcpi_bytes_acked, tcpi_bytes_received; Linux >= 4.1 and 4.2).
struct tcp_info_bytes {
  tcp_info base;
  uint64_t pacing_rate;
  uint64_t max_pacing_rate;
  uint64_t bytes_acked;     // payload bytes sent and acknowledged by the other side
  uint64_t bytes_received;  // payload bytes received
};
static_assert(sizeof(tcp_info) == 104 && offsetof(tcp_info_bytes, bytes_acked) == 120,
              "struct tcp_info layout");

// The counts of socket `fd`. tcpi_bytes_acked of a connecting side also counts the SYN's
// sequence number (one).
inline tcp_info_bytes info_of(int fd) {
  tcp_info_bytes ti{};
  socklen_t len = sizeof ti;
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
  REQUIRE(len >= offsetof(tcp_info_bytes, bytes_received) + sizeof(uint64_t));
  return ti;
}

// Polls `done` every millisecond for at most 10 s: the kernel's counts settle once the last
// bytes are acknowledged.
inline bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace fedactor::testing
