#pragma once

// The role check inside CAF's TLS handshake (runtime/host/tls_role.hpp says which roles meet
// on which link). CAF 0.17.6's openssl module (libcaf_openssl/src/openssl/session.cpp) turns on
// peer verification with SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr) and offers no hook of its own. This file defines
// SSL_CTX_set_verify in the executable, in front of libssl's (ELF symbol interposition, as
// tls_log.cpp does for SSL_get_error): a call that asks for peer verification without a
// callback gets one. After OpenSSL has verified the chain, the callback reads the peer's
// certificate role and this side's own (SSL_get_certificate) and refuses a peer whose role
// does not belong on the link (X509_V_ERR_APPLICATION_VERIFICATION); the reason is kept
// with the session, and tls_log reports it: "TLS: refused peer 127.0.0.1:40022: certificate
// role 'clients' where 'edge' expected".

#include <optional>
#include <string>

#include <openssl/ssl.h>

namespace fedactor {

// Why the role check refused the peer of `ssl`, if it did.
std::optional<std::string> tls_role_refusal(const SSL* ssl);

}  // namespace fedactor
