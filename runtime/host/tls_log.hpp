#pragma once

// Logging of refused TLS peers, with their address.
//
// CAF 0.17's openssl module refuses a peer whose certificate does not verify (or that
// presents none) by closing the connection: the accepting side reports nothing at all, the
// connecting side gets `disconnect_during_handshake`. To say who was refused and why, this
// file defines `SSL_get_error` in the executable, in front of libssl's (ELF symbol
// interposition; CAF calls it after every failed handshake step): it forwards to the real
// function and, when a handshake failed and a sink is installed, reports the peer's address
// (getpeername on the session's socket), the OpenSSL reason and the certificate
// verification result. Without a sink it only forwards.

#include <functional>
#include <string>

namespace fedactor {

// Installs (or, with an empty function, removes) the sink for refusal lines such as
// "TLS: refused peer 10.0.0.7:51122: certificate verify failed (unable to get local issuer
// certificate)". Called from CAF's multiplexer thread.
void set_tls_refusal_log(std::function<void(const std::string&)> sink);

// Installs `sink` (when not empty) for its lifetime: the sink is process-wide, so a node
// function holds one of these and every way out of it (return or exception) removes it.
class tls_refusal_log_scope {
 public:
  explicit tls_refusal_log_scope(std::function<void(const std::string&)> sink)
      : active_(static_cast<bool>(sink)) {
    if (active_) set_tls_refusal_log(std::move(sink));
  }
  ~tls_refusal_log_scope() {
    if (active_) set_tls_refusal_log({});
  }
  tls_refusal_log_scope(const tls_refusal_log_scope&) = delete;
  tls_refusal_log_scope& operator=(const tls_refusal_log_scope&) = delete;

 private:
  bool active_;
};

}  // namespace fedactor
