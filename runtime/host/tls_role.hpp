#pragma once

// Roles bound to certificates (docs/security.md, docs/deployment.md). Every node's TLS
// certificate names its role in its subject's organizational unit: OU=server, OU=edge or
// OU=clients (a client host). Each node accepts, on each link, only the roles that belong
// there: a server accepts edges; an edge accepts client hosts and child edges (aggregation
// trees) and connects to a server or, with --parent, to its parent edge; a client host
// connects to an edge. The roles a node expects of a peer follow from its own certificate's
// role, the link's direction and, for an edge's outgoing link, whether the edge joins a parent
// edge (set_tls_edge_below_parent, process-wide; the check itself:
// runtime/host/tls_role_check.cpp, inside the TLS handshake). Which registration a peer then
// sends is not bound to its certificate: an edge's port takes both an edge and a client-host
// certificate, and either peer may register as a child edge or a client host
// (docs/security.md).
//
// A certificate without an OU carries no role: refused, unless role-less certificates are
// accepted (--tls-accept-roleless, for a deployment whose certificates predate roles): then a
// role-less peer is taken in any role, and a node whose own certificate is role-less checks
// no peer's role.

#include <optional>
#include <string>
#include <vector>

#include <openssl/x509.h>

namespace fedactor {

enum class node_role { server, edge, clients };

const char* to_string(node_role r);

// What a certificate says about its role: the values of its subject's OU entries, in order.
// No entry: role-less. One entry: that role (it may be a value that is no role at all).
struct certificate_role {
  std::vector<std::string> values;
  bool roleless() const { return values.empty(); }
};

certificate_role role_of(const X509* cert);

// The roles a node of role `own` accepts of the peer on a link it accepted (`accepting`) or
// opened; empty when it has no such link (a client host accepts nobody, a server connects to
// nobody). `below_parent`: an edge that joins a parent edge (its outgoing link then expects an
// edge, not the server).
std::vector<node_role> expected_peer_roles(node_role own, bool accepting,
                                           bool below_parent = false);

// "server", "edge", "clients" -> the role; nullopt for anything else.
std::optional<node_role> parse_node_role(const std::string& text);

// Why a peer with certificate role `peer` must be refused by a node with certificate role
// `own` on a link it accepted or opened, or nullopt when it is accepted. Reasons read, after
// "TLS: refused peer A:P: ", e.g. "certificate role 'clients' where 'edge' expected" or
// "certificate role 'server' where 'clients' or 'edge' expected".
std::optional<std::string> role_refusal(const certificate_role& own, const certificate_role& peer,
                                        bool accepting, bool accept_roleless,
                                        bool below_parent = false);

// Checks a node's own certificate (PEM file) before it starts: it must carry `role` (or none,
// when role-less certificates are accepted). The problem in one line otherwise, e.g.
// "--tls-cert pki/clients0.pem: certificate role 'clients' where 'edge' expected (this node is
// an edge)".
std::optional<std::string> check_own_certificate(const std::string& pem_file, node_role role,
                                                 bool accept_roleless);

// Whether the handshake check accepts role-less certificates (process-wide; default false).
// configure() (node_net.hpp) sets it from the node's options.
void set_tls_accept_roleless(bool accept);
bool tls_accept_roleless();

// Whether this process is an edge that joins a parent edge (process-wide; default false): the
// handshake check then expects an edge, not the server, at the other end of the edge's
// outgoing link. run_edge_node sets it from --parent before it connects.
void set_tls_edge_below_parent(bool below);
bool tls_edge_below_parent();

}  // namespace fedactor
