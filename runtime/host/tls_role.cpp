// Roles bound to certificates: reading a certificate's role and deciding on a peer's.

#include "runtime/host/tls_role.hpp"

#include <atomic>
#include <cstdio>
#include <memory>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

namespace fedactor {

namespace {

std::atomic<bool> accept_roleless_flag{false};
std::atomic<bool> edge_below_parent_flag{false};

std::string quoted_list(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "'" : ", '") + v + "'";
  return out;
}

// "'edge'", "no role", "several roles ('a', 'b')"
std::string describe(const certificate_role& r) {
  if (r.roleless()) return "no role";
  if (r.values.size() > 1) return "several roles (" + quoted_list(r.values) + ")";
  return "'" + r.values.front() + "'";
}

}  // namespace

const char* to_string(node_role r) {
  switch (r) {
    case node_role::server:
      return "server";
    case node_role::edge:
      return "edge";
    case node_role::clients:
      return "clients";
  }
  return "?";
}

std::optional<node_role> parse_node_role(const std::string& text) {
  for (auto r : {node_role::server, node_role::edge, node_role::clients})
    if (text == to_string(r)) return r;
  return std::nullopt;
}

certificate_role role_of(const X509* cert) {
  certificate_role out;
  if (cert == nullptr) return out;
  const X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return out;
  int pos = -1;
  while ((pos = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName, pos)) >= 0) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, pos));
    unsigned char* utf8 = nullptr;
    const int len = data ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
    out.values.push_back(len >= 0 ? std::string(reinterpret_cast<char*>(utf8), len) : "?");
    OPENSSL_free(utf8);
  }
  return out;
}

std::vector<node_role> expected_peer_roles(node_role own, bool accepting, bool below_parent) {
  switch (own) {
    case node_role::server:
      if (accepting) return {node_role::edge};
      return {};
    case node_role::edge:
      if (accepting) return {node_role::clients, node_role::edge};
      return {below_parent ? node_role::edge : node_role::server};
    case node_role::clients:
      if (accepting) return {};
      return {node_role::edge};
  }
  return {};
}

std::optional<std::string> role_refusal(const certificate_role& own, const certificate_role& peer,
                                        bool accepting, bool accept_roleless, bool below_parent) {
  if (own.roleless()) {
    if (accept_roleless) return std::nullopt;  // nothing to derive expectations from
    return std::string{"this node's own certificate carries no role"};
  }
  std::optional<node_role> mine;
  if (own.values.size() == 1) mine = parse_node_role(own.values.front());
  if (!mine) return "this node's own certificate has " + describe(own) + ", not a node role";
  const auto want = expected_peer_roles(*mine, accepting, below_parent);
  if (want.empty())
    return std::string{"a "} + (*mine == node_role::server ? "server" : "client host") +
           (accepting ? " accepts no peer" : " connects to no peer") + " (certificate role " +
           describe(peer) + ")";
  std::string wanted;
  for (size_t i = 0; i < want.size(); ++i)
    wanted += (i == 0 ? "'" : " or '") + std::string{to_string(want[i])} + "'";
  if (peer.roleless()) {
    if (accept_roleless) return std::nullopt;
    return "certificate without a role where " + wanted + " expected";
  }
  if (peer.values.size() == 1)
    for (auto w : want)
      if (peer.values.front() == to_string(w)) return std::nullopt;
  return "certificate role " + describe(peer) + " where " + wanted + " expected";
}

std::optional<std::string> check_own_certificate(const std::string& pem_file, node_role role,
                                                 bool accept_roleless) {
  std::unique_ptr<FILE, int (*)(FILE*)> f{std::fopen(pem_file.c_str(), "r"), &std::fclose};
  if (!f) return "--tls-cert " + pem_file + ": cannot read";
  std::unique_ptr<X509, void (*)(X509*)> cert{PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                              &X509_free};
  if (!cert) return "--tls-cert " + pem_file + ": not a PEM certificate";
  const auto own = role_of(cert.get());
  const std::string node = role == node_role::server ? "a server"
                           : role == node_role::edge ? "an edge"
                                                     : "a client host";
  if (own.roleless()) {
    if (accept_roleless) return std::nullopt;
    return "--tls-cert " + pem_file + ": certificate without a role where '" + to_string(role) +
           "' expected (this node is " + node +
           "; issue certificates with OU=server|edge|clients, or pass --tls-accept-roleless)";
  }
  if (own.values.size() == 1 && own.values.front() == to_string(role)) return std::nullopt;
  return "--tls-cert " + pem_file + ": certificate role " + describe(own) + " where '" +
         to_string(role) + "' expected (this node is " + node + ")";
}

void set_tls_accept_roleless(bool accept) {
  accept_roleless_flag.store(accept);
}

bool tls_accept_roleless() {
  return accept_roleless_flag.load();
}

void set_tls_edge_below_parent(bool below) {
  edge_below_parent_flag.store(below);
}

bool tls_edge_below_parent() {
  return edge_below_parent_flag.load();
}

}  // namespace fedactor
