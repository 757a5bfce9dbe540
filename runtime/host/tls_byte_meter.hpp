#pragma once

// The bytes a listening node exchanges with its peers over TLS, counted as the BASP guard
// counts them in plain TCP (runtime/host/byte_counters.hpp): each link at its listening end,
// by BASP frame kind, by fedactor message kind and by kind of peer.
//
// With TLS there is no guard: CAF 0.17.6's openssl module owns the socket
// (libcaf_openssl/src/openssl/session.cpp: SSL_set_fd then SSL_set_accept_state or
// SSL_set_connect_state, then SSL_read / SSL_write on the BASP stream). So this file defines
// SSL_set_fd, SSL_read and SSL_write in the executable, in front of libssl's (ELF symbol
// interposition, as tls_log.cpp does for SSL_get_error; each forwards to the real function,
// dlsym(RTLD_NEXT)):
// - SSL_set_fd: when the socket's local port is one a meter watches (an accepted connection of
//   a node's TLS port), the session gets a state of its own (SSL ex-data, freed with the
//   session) and its socket BIO a callback (BIO_set_callback_ex) that counts every byte the
//   BIO reads from and writes to the socket: the ciphertext, i.e. the TCP payload the kernel
//   carries, TLS handshakes, records and alerts included. from_peers / to_peers and the split
//   by peer kind are these bytes.
// - SSL_read / SSL_write: the plaintext they return / accept passes through a
//   basp_frame_check per direction, for the split by BASP frame kind and message kind (and the
//   peer's registration, which makes its link an edge's or a client host's). These splits are
//   of the BASP stream, as in plain TCP; the difference to the totals is TLS's own overhead.
// A session is counted only once its first I/O shows that it is the accepting side
// (SSL_is_server): a connection the node opened is counted at the other end.
// Per session: two frame checks (at most max_peek_bytes each of a payload head kept) and a few
// counters; nothing read from the peer is kept beyond that.

#include <cstdint>
#include <memory>

#include "runtime/host/byte_counters.hpp"

namespace fedactor {

class tls_byte_meter {
 public:
  tls_byte_meter();
  ~tls_byte_meter();  // stops watching (sessions under way keep their counters alive)
  tls_byte_meter(const tls_byte_meter&) = delete;
  tls_byte_meter& operator=(const tls_byte_meter&) = delete;

  // Counts the TLS sessions accepted on this local port from now on (one port per meter; a
  // later call moves it). Process-wide: another meter watching the port loses it.
  void watch(uint16_t port);

  byte_totals bytes() const;

 private:
  std::shared_ptr<byte_counters> counters_;
  uint16_t port_ = 0;
};

}  // namespace fedactor
