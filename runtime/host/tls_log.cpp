// SSL_get_error interposer: logs failed TLS handshakes with the peer's address.

#include "runtime/host/tls_log.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>
#include <mutex>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/host/tls_role_check.hpp"

namespace fedactor {

namespace {

std::mutex sink_mu;
std::shared_ptr<const std::function<void(const std::string&)>> sink;

// libssl's functions, looked up at run time: the executable does not link libssl itself
// (CAF's openssl module does).
template <class F>
F lookup(const char* name, void* where) {
  return reinterpret_cast<F>(dlsym(where, name));
}

std::string peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown peer";
  char host[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string{host} + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    auto* in = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof host);
    return "[" + std::string{host} + "]:" + std::to_string(ntohs(in->sin6_port));
  }
  return "unknown peer";
}

void report(const SSL* ssl, int code) {
  std::shared_ptr<const std::function<void(const std::string&)>> out;
  {
    std::lock_guard<std::mutex> guard{sink_mu};
    out = sink;
  }
  if (!out || !*out) return;
  static auto init_finished = lookup<int (*)(const SSL*)>("SSL_is_init_finished", RTLD_DEFAULT);
  static auto is_server = lookup<int (*)(const SSL*)>("SSL_is_server", RTLD_DEFAULT);
  static auto get_fd = lookup<int (*)(const SSL*)>("SSL_get_fd", RTLD_DEFAULT);
  static auto verify_result = lookup<long (*)(const SSL*)>("SSL_get_verify_result", RTLD_DEFAULT);
  static auto own_finished =
      lookup<size_t (*)(const SSL*, void*, size_t)>("SSL_get_finished", RTLD_DEFAULT);
  static auto peer_finished =
      lookup<size_t (*)(const SSL*, void*, size_t)>("SSL_get_peer_finished", RTLD_DEFAULT);
  // One line per session: CAF may ask SSL_get_error again about a session already failed.
  static auto get_ex = lookup<void* (*)(const SSL*, int)>("SSL_get_ex_data", RTLD_DEFAULT);
  static auto set_ex = lookup<int (*)(SSL*, int, void*)>("SSL_set_ex_data", RTLD_DEFAULT);
  static const int reported_index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, nullptr);
  if (!init_finished || !is_server || !get_fd || !verify_result) return;
  if (get_ex && reported_index >= 0 && get_ex(ssl, reported_index) != nullptr) return;
  const unsigned long last = ERR_peek_last_error();
  // A fatal alert from the server, read by the connecting side: a refusal even when this
  // side's handshake had finished. In TLS 1.3 the client is done once it has sent its
  // Finished; the server verifies the client's certificate after that, so the client may
  // read the server's "unknown ca" alert only on its first read after the handshake.
  const bool refused_by_server = !is_server(ssl) && code == SSL_ERROR_SSL &&
                                 ERR_GET_LIB(last) == ERR_LIB_SSL &&
                                 ERR_GET_REASON(last) >= SSL_AD_REASON_OFFSET;
  // An established session ending: not a refusal.
  if (init_finished(ssl) && !refused_by_server) return;
  // OpenSSL 3 puts a session back "in init" on any fatal error, including the unexpected EOF
  // of a peer that hangs up without a TLS close (CAF 0.17 never sends one). A session whose
  // Finished messages both went through, with a verified peer, was established: its end
  // by EOF is not a refusal.
  const bool eof = code == SSL_ERROR_SYSCALL
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
                   || ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING
#endif
      ;
  unsigned char fin[EVP_MAX_MD_SIZE];
  if (eof && own_finished && peer_finished && own_finished(ssl, fin, sizeof fin) > 0 &&
      peer_finished(ssl, fin, sizeof fin) > 0 && verify_result(ssl) == X509_V_OK)
    return;
  std::string reason = "connection closed during the handshake";
  if (code == SSL_ERROR_SSL) {
    char buf[256] = "";
    // The latest error is this failure's; older ones may be left over from other sessions
    // on this thread (CAF does not clear the queue; SSL_get_error below does now).
    if (auto e = last) {
      ERR_error_string_n(e, buf, sizeof buf);
      reason = buf;
      // "error:0A000086:SSL routines::certificate verify failed" -> the last part
      auto pos = reason.rfind(':');
      if (pos != std::string::npos) reason = reason.substr(pos + 1);
    }
  }
  const long verify = verify_result(ssl);
  // The certificate role check (tls_role_check.hpp) refused the peer: its reason alone.
  std::optional<std::string> role;
  if (verify == X509_V_ERR_APPLICATION_VERIFICATION) role = tls_role_refusal(ssl);
  if (role)
    reason = *role;
  else if (verify != X509_V_OK)
    reason += std::string{" ("} + X509_verify_cert_error_string(verify) + ")";
  const std::string peer = peer_of(get_fd(ssl));
  static char reported_mark;
  if (set_ex && reported_index >= 0) set_ex(const_cast<SSL*>(ssl), reported_index, &reported_mark);
  (*out)(is_server(ssl) ? "TLS: refused peer " + peer + ": " + reason
                        : "TLS: handshake with " + peer + " failed: " + reason);
}

}  // namespace

void set_tls_refusal_log(std::function<void(const std::string&)> fn) {
  std::lock_guard<std::mutex> guard{sink_mu};
  sink =
      fn ? std::make_shared<const std::function<void(const std::string&)>>(std::move(fn)) : nullptr;
}

}  // namespace fedactor

// Interposes libssl's SSL_get_error (see tls_log.hpp).
extern "C" int SSL_get_error(const SSL* ssl, int ret) {
  using real_fn = int (*)(const SSL*, int);
  static auto real = fedactor::lookup<real_fn>("SSL_get_error", RTLD_NEXT);
  if (!real) return SSL_ERROR_SSL;
  const int code = real(ssl, ret);
  if (ssl != nullptr && (code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL)) {
    fedactor::report(ssl, code);
    // The session is dead and CAF does not read the queue: clear it, or a stale error would
    // be taken for the next session's on this thread (and can fail its handshake).
    ERR_clear_error();
  }
  return code;
}
