// SSL_CTX_set_verify interposer: the certificate role check (see tls_role_check.hpp).

#include "runtime/host/tls_role_check.hpp"

#include <dlfcn.h>

#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "runtime/host/tls_role.hpp"

namespace fedactor {

namespace {

// libssl's functions, looked up at run time (the executable does not link libssl itself).
template <class F>
F ssl_fn(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

void free_reason(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}

// The session's ex-data slot for a refusal reason (a std::string, freed with the session).
int reason_index() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, &free_reason);
  return index;
}

struct ssl_api {
  int (*store_idx)() = ssl_fn<int (*)()>("SSL_get_ex_data_X509_STORE_CTX_idx");
  X509* (*own_cert)(const SSL*) = ssl_fn<X509* (*)(const SSL*)>("SSL_get_certificate");
  int (*is_server)(const SSL*) = ssl_fn<int (*)(const SSL*)>("SSL_is_server");
  void* (*get_ex)(const SSL*, int) = ssl_fn<void* (*)(const SSL*, int)>("SSL_get_ex_data");
  int (*set_ex)(SSL*, int, void*) = ssl_fn<int (*)(SSL*, int, void*)>("SSL_set_ex_data");
  bool ok() const { return store_idx && own_cert && is_server && get_ex && set_ex; }
};

const ssl_api& api() {
  static const ssl_api a;
  return a;
}

void refuse(X509_STORE_CTX* store, SSL* ssl, std::string reason) {
  X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
  const auto& a = api();
  const int index = reason_index();
  if (ssl == nullptr || !a.ok() || index < 0) return;
  delete static_cast<std::string*>(a.get_ex(ssl, index));
  a.set_ex(ssl, index, new std::string(std::move(reason)));
}

// Called by OpenSSL for each certificate of the peer's chain, the peer's own last (depth 0).
int verify_role(int preverify_ok, X509_STORE_CTX* store) {
  if (!preverify_ok) return 0;  // OpenSSL's own verdict stands
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  const auto& a = api();
  SSL* ssl = a.ok() ? static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, a.store_idx())) : nullptr;
  if (ssl == nullptr) {
    refuse(store, nullptr, "no TLS session to check the certificate role against");
    return 0;
  }
  auto why = role_refusal(role_of(a.own_cert(ssl)), role_of(X509_STORE_CTX_get_current_cert(store)),
                          a.is_server(ssl) == 1, tls_accept_roleless(), tls_edge_below_parent());
  if (!why) return 1;
  refuse(store, ssl, std::move(*why));
  return 0;
}

}  // namespace

std::optional<std::string> tls_role_refusal(const SSL* ssl) {
  const auto& a = api();
  const int index = reason_index();
  if (ssl == nullptr || !a.ok() || index < 0) return std::nullopt;
  if (auto* reason = static_cast<const std::string*>(a.get_ex(ssl, index))) return *reason;
  return std::nullopt;
}

}  // namespace fedactor

// Interposes libssl's SSL_CTX_set_verify (see tls_role_check.hpp).
extern "C" void SSL_CTX_set_verify(SSL_CTX* ctx, int mode, SSL_verify_cb callback) {
  using real_fn = void (*)(SSL_CTX*, int, SSL_verify_cb);
  static auto real = reinterpret_cast<real_fn>(dlsym(RTLD_NEXT, "SSL_CTX_set_verify"));
  if (!real) std::abort();  // never without peer verification
  if ((mode & SSL_VERIFY_PEER) != 0 && callback == nullptr) callback = &fedactor::verify_role;
  real(ctx, mode, callback);
}
