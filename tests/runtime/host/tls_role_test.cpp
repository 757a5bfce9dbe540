// tls_role: a certificate's role (its subject's OU), the role each node expects on each link,
// and the check of a node's own certificate; with the test PKI's certificates.

#include "runtime/host/tls_role.hpp"

#include <cstdio>
#include <memory>

#include <openssl/pem.h>

#include <catch2/catch.hpp>

#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;

namespace {

certificate_role role_in(const test_pki& pki, const std::string& who) {
  std::unique_ptr<FILE, int (*)(FILE*)> f{std::fopen(pki.file(who + ".pem").c_str(), "r"),
                                          &std::fclose};
  REQUIRE(f);
  std::unique_ptr<X509, void (*)(X509*)> cert{PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                              &X509_free};
  REQUIRE(cert);
  return role_of(cert.get());
}

certificate_role role(std::vector<std::string> values) {
  return certificate_role{std::move(values)};
}

}  // namespace

TEST_CASE("a certificate's role is its subject's OU", "[host][tls]") {
  test_pki pki{"tls_role"};
  REQUIRE(pki.ok());
  CHECK(role_in(pki, "node").values == std::vector<std::string>{"server"});
  CHECK(role_in(pki, "peer").values == std::vector<std::string>{"edge"});
  CHECK(role_in(pki, "clients").values == std::vector<std::string>{"clients"});
  CHECK(role_in(pki, "expired").values == std::vector<std::string>{"edge"});
  CHECK(role_in(pki, "other").values == std::vector<std::string>{"lab"});
  CHECK(role_in(pki, "roleless").roleless());
  CHECK(role_of(nullptr).roleless());
}

TEST_CASE("each node expects its roles on each link", "[host][tls]") {
  using roles = std::vector<node_role>;
  CHECK(expected_peer_roles(node_role::server, true) == roles{node_role::edge});
  CHECK(expected_peer_roles(node_role::server, false).empty());
  CHECK(expected_peer_roles(node_role::edge, true) == roles{node_role::clients, node_role::edge});
  CHECK(expected_peer_roles(node_role::edge, false) == roles{node_role::server});
  CHECK(expected_peer_roles(node_role::edge, false, true) == roles{node_role::edge});
  CHECK(expected_peer_roles(node_role::edge, true, true) ==
        roles{node_role::clients, node_role::edge});
  CHECK(expected_peer_roles(node_role::clients, true).empty());
  CHECK(expected_peer_roles(node_role::clients, false) == roles{node_role::edge});
  CHECK(parse_node_role("edge") == node_role::edge);
  CHECK(parse_node_role("clients") == node_role::clients);
  CHECK(parse_node_role("server") == node_role::server);
  CHECK_FALSE(parse_node_role("Edge").has_value());
  CHECK_FALSE(parse_node_role("").has_value());
}

TEST_CASE("a peer is refused unless its certificate has the role the link expects", "[host][tls]") {
  const auto server = role({"server"}), edge = role({"edge"}), clients = role({"clients"});
  const auto none = role({}), lab = role({"lab"}), both = role({"edge", "clients"});
  // The links of a federation, accepted.
  CHECK_FALSE(role_refusal(server, edge, true, false));
  CHECK_FALSE(role_refusal(edge, server, false, false));
  CHECK_FALSE(role_refusal(edge, clients, true, false));
  CHECK_FALSE(role_refusal(clients, edge, false, false));
  // Trees: an edge takes a child edge on its port; a child edge expects its parent's edge
  // certificate, not the server's.
  CHECK_FALSE(role_refusal(edge, edge, true, false));
  CHECK_FALSE(role_refusal(edge, edge, false, false, true));
  CHECK(role_refusal(edge, server, false, false, true) ==
        "certificate role 'server' where 'edge' expected");
  CHECK(role_refusal(edge, edge, false, false) ==
        "certificate role 'edge' where 'server' expected");
  CHECK(role_refusal(edge, none, true, false) ==
        "certificate without a role where 'clients' or 'edge' expected");
  // A client host's certificate joining the server as an edge.
  CHECK(role_refusal(server, clients, true, false) ==
        "certificate role 'clients' where 'edge' expected");
  CHECK(role_refusal(server, server, true, false) ==
        "certificate role 'server' where 'edge' expected");
  CHECK(role_refusal(edge, server, true, false) ==
        "certificate role 'server' where 'clients' or 'edge' expected");
  CHECK(role_refusal(edge, clients, false, false) ==
        "certificate role 'clients' where 'server' expected");
  CHECK(role_refusal(clients, server, false, false) ==
        "certificate role 'server' where 'edge' expected");
  CHECK(role_refusal(server, lab, true, false) == "certificate role 'lab' where 'edge' expected");
  CHECK(role_refusal(server, both, true, false) ==
        "certificate role several roles ('edge', 'clients') where 'edge' expected");
  // Links that do not exist.
  CHECK(role_refusal(server, edge, false, false) ==
        "a server connects to no peer (certificate role 'edge')");
  CHECK(role_refusal(clients, edge, true, false) ==
        "a client host accepts no peer (certificate role 'edge')");
  // Role-less certificates: refused by default, taken in any role when accepted.
  CHECK(role_refusal(server, none, true, false) ==
        "certificate without a role where 'edge' expected");
  CHECK_FALSE(role_refusal(server, none, true, true));
  CHECK(role_refusal(server, clients, true, true) ==
        "certificate role 'clients' where 'edge' expected");
  CHECK(role_refusal(none, edge, true, false) == "this node's own certificate carries no role");
  CHECK_FALSE(role_refusal(none, clients, true, true));
  CHECK(role_refusal(lab, edge, true, false) ==
        "this node's own certificate has 'lab', not a node role");
}

TEST_CASE("a node checks that its own certificate carries its role", "[host][tls]") {
  test_pki pki{"tls_role_own"};
  REQUIRE(pki.ok());
  CHECK_FALSE(check_own_certificate(pki.file("node.pem"), node_role::server, false));
  CHECK_FALSE(check_own_certificate(pki.file("peer.pem"), node_role::edge, false));
  CHECK_FALSE(check_own_certificate(pki.file("clients.pem"), node_role::clients, false));
  CHECK(check_own_certificate(pki.file("clients.pem"), node_role::edge, false) ==
        "--tls-cert " + pki.file("clients.pem") +
            ": certificate role 'clients' where 'edge' expected (this node is an edge)");
  CHECK(check_own_certificate(pki.file("peer.pem"), node_role::clients, true) ==
        "--tls-cert " + pki.file("peer.pem") +
            ": certificate role 'edge' where 'clients' expected (this node is a client host)");
  CHECK(check_own_certificate(pki.file("roleless.pem"), node_role::server, false) ==
        "--tls-cert " + pki.file("roleless.pem") +
            ": certificate without a role where 'server' expected (this node is a server; issue "
            "certificates with OU=server|edge|clients, or pass --tls-accept-roleless)");
  CHECK_FALSE(check_own_certificate(pki.file("roleless.pem"), node_role::server, true));
  CHECK(check_own_certificate(pki.file("node.key"), node_role::server, false) ==
        "--tls-cert " + pki.file("node.key") + ": not a PEM certificate");
  CHECK(check_own_certificate("/nonexistent/fedactor.pem", node_role::server, false) ==
        "--tls-cert /nonexistent/fedactor.pem: cannot read");
}

TEST_CASE("the node options check the own certificate's role with TLS only", "[host][tls]") {
  test_pki pki{"tls_role_opts"};
  REQUIRE(pki.ok());
  CHECK_FALSE(check(test_net(), node_role::edge));
  CHECK_FALSE(check(pki.tls("peer", "ca"), node_role::edge));
  auto err = check(pki.tls("clients", "ca"), node_role::edge);
  REQUIRE(err);
  CHECK(*err == "--tls-cert " + pki.file("clients.pem") +
                    ": certificate role 'clients' where 'edge' expected (this node is an edge)");
  auto roleless = pki.tls("roleless", "ca");
  CHECK(check(roleless, node_role::server).has_value());
  roleless.tls_accept_roleless = true;
  CHECK_FALSE(check(roleless, node_role::server));
}
