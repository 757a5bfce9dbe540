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

// A connection to 127.0.0.1:port that sends what it is told and stays open until it goes
// away (or close()): a peer that stops inside a frame.
class raw_connection {
 public:
  explicit raw_connection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) close();
  }
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;
  ~raw_connection() { close(); }

  bool connected() const { return fd_ >= 0; }

  // Sends every chunk whole; false when the connection is gone.
  bool send(const std::vector<std::vector<char>>& chunks) {
    for (const auto& c : chunks) {
      size_t done = 0;
      while (fd_ >= 0 && done < c.size()) {
        const auto n = ::send(fd_, c.data() + done, c.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
      }
    }
    return fd_ >= 0;
  }

  // Waits up to `seconds` for the other side to close (what it sends meanwhile is skipped):
  // true when it did.
  bool closed_by_peer(int seconds) {
    if (fd_ < 0) return false;
    timeval tv{seconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) continue;
      return n == 0 || errno == ECONNRESET;
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Connects, sends each chunk and closes at once: a peer gone in the middle of what it sent.
inline bool send_and_close(uint16_t port, const std::vector<std::vector<char>>& chunks) {
  raw_connection c{port};
  return c.connected() && c.send(chunks);
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
