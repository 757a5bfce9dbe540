#pragma once

// A peer that speaks raw bytes to a listening node over loopback: for the tests that send a
// node garbage (runtime/host/basp_guard, the node commands).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace fedactor::testing {

// Connects to 127.0.0.1:port, sends each chunk, and waits (bounded) for the peer to close.
// True when the connection was closed by the other side.
inline bool send_raw(uint16_t port, const std::vector<std::vector<char>>& chunks) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return false;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (const auto& c : chunks) ::send(fd, c.data(), c.size(), MSG_NOSIGNAL);
  // The node's server handshake may come first; then the close (recv 0) or a reset.
  char buf[4096];
  bool closed = false;
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    closed = n == 0 || errno == ECONNRESET;
    break;
  }
  ::close(fd);
  return closed;
}

inline std::vector<char> bytes(std::initializer_list<int> xs) {
  std::vector<char> out;
  for (int x : xs) out.push_back(static_cast<char>(x));
  return out;
}

// `n` pseudo-random bytes (seeded), the first one `first`.
inline std::vector<char> noise(size_t n, uint32_t seed, char first) {
  std::mt19937 rng{seed};
  std::vector<char> out(n);
  for (auto& c : out) c = static_cast<char>(rng());
  if (n > 0) out[0] = first;
  return out;
}

// A 32-byte BASP header: operation, then the 4-byte payload length (network order), rest 0.
inline std::vector<char> basp_header(uint8_t op, uint32_t payload_len) {
  std::vector<char> out(32, 0);
  out[0] = static_cast<char>(op);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((payload_len >> (24 - 8 * i)) & 0xff);
  return out;
}

}  // namespace fedactor::testing
