// tls_role_check: the certificate role check inside CAF's TLS handshake (the SSL_CTX_set_verify
// interposer), with the test PKI: each side of a link takes only the role that belongs there,
// logs the refusal with the peer's address, and role-less certificates are refused unless
// accepted. A peer that checks nothing itself is played by a hand-made OpenSSL client.

#include "runtime/host/tls_role_check.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/node_net.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/host/tls_role.hpp"
#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

// A CAF system publishing an idle actor over TLS on 127.0.0.1 with `net`'s certificate.
struct tls_listener {
  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor idle;
  uint16_t port = 0;
  explicit tls_listener(const node_net_options& net) {
    configure(cfg, net);
    sys = std::make_unique<caf::actor_system>(cfg);
    idle = sys->spawn(
        [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
    auto p = publish_on(*sys, idle, host_port{"127.0.0.1", 0}, net);
    if (p) port = *p;
  }
  ~tls_listener() { caf::anon_send_exit(idle, caf::exit_reason::user_shutdown); }
};

// A CAF peer connecting with `net`'s certificate; whether it got a handle.
bool caf_connects(const node_net_options& net, uint16_t port) {
  system_config cfg;
  configure(cfg, net);
  caf::actor_system peer{cfg};
  return static_cast<bool>(connect_to<caf::actor>(peer, loopback(port), net));
}

// A TLS client that verifies nothing and presents `cert`: any holder of a stolen certificate.
// True if its handshake succeeded. Reads time out after 20 s.
bool raw_client(uint16_t port, const std::string& cert, const std::string& key) {
  auto fn = [](const char* name) { return dlsym(RTLD_DEFAULT, name); };
  auto method = reinterpret_cast<const SSL_METHOD* (*)()>(fn("TLS_client_method"));
  auto ctx_new = reinterpret_cast<SSL_CTX* (*)(const SSL_METHOD*)>(fn("SSL_CTX_new"));
  auto ctx_free = reinterpret_cast<void (*)(SSL_CTX*)>(fn("SSL_CTX_free"));
  auto use_cert =
      reinterpret_cast<int (*)(SSL_CTX*, const char*, int)>(fn("SSL_CTX_use_certificate_file"));
  auto use_key =
      reinterpret_cast<int (*)(SSL_CTX*, const char*, int)>(fn("SSL_CTX_use_PrivateKey_file"));
  auto ssl_new = reinterpret_cast<SSL* (*)(SSL_CTX*)>(fn("SSL_new"));
  auto ssl_free = reinterpret_cast<void (*)(SSL*)>(fn("SSL_free"));
  auto set_fd = reinterpret_cast<int (*)(SSL*, int)>(fn("SSL_set_fd"));
  auto connect = reinterpret_cast<int (*)(SSL*)>(fn("SSL_connect"));
  auto read = reinterpret_cast<int (*)(SSL*, void*, int)>(fn("SSL_read"));
  REQUIRE((method && ctx_new && ctx_free && use_cert && use_key && ssl_new && ssl_free && set_fd &&
           connect && read));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  SSL_CTX* ctx = ctx_new(method());
  REQUIRE(ctx != nullptr);
  REQUIRE(use_cert(ctx, cert.c_str(), SSL_FILETYPE_PEM) == 1);
  REQUIRE(use_key(ctx, key.c_str(), SSL_FILETYPE_PEM) == 1);
  SSL* ssl = ssl_new(ctx);
  REQUIRE(ssl != nullptr);
  set_fd(ssl, fd);
  bool ok = connect(ssl) == 1;
  // TLS 1.3 ends the client's handshake before the server has checked its certificate: the
  // server's verdict comes with the first read.
  char byte = 0;
  if (ok && read(ssl, &byte, 1) <= 0) ok = false;
  ssl_free(ssl);
  ctx_free(ctx);
  ::close(fd);
  ERR_clear_error();
  return ok;
}

struct role_test {
  test_pki pki{"tls_role_check"};
  std::shared_ptr<line_log> log = std::make_shared<line_log>();
  role_test() { set_tls_refusal_log(sink(log)); }
  ~role_test() {
    set_tls_refusal_log({});
    set_tls_accept_roleless(false);
  }
};

}  // namespace

TEST_CASE("a server refuses a client host's certificate presented as an edge's", "[host][tls]") {
  role_test t;
  REQUIRE(t.pki.ok());
  tls_listener server{patient(t.pki.tls("node", "ca"))};  // OU=server
  REQUIRE(server.port != 0);
  CHECK_FALSE(raw_client(server.port, t.pki.file("clients.pem"), t.pki.file("clients.key")));
  auto line = t.log->wait_for("certificate role", 20s);
  INFO(t.log->dump());
  REQUIRE(line);
  CHECK(line->rfind("TLS: refused peer 127.0.0.1:", 0) == 0);
  const std::string why = ": certificate role 'clients' where 'edge' expected";
  REQUIRE(line->size() > why.size());
  CHECK(line->substr(line->size() - why.size()) == why);
  // The server goes on: an edge's certificate is taken.
  CHECK(caf_connects(patient(t.pki.tls("peer", "ca")), server.port));
}

TEST_CASE(
    "an edge takes client hosts and child edges only, and a client host connects to an edge "
    "only",
    "[host][tls]") {
  role_test t;
  REQUIRE(t.pki.ok());
  {
    tls_listener edge{patient(t.pki.tls("peer", "ca"))};  // OU=edge
    REQUIRE(edge.port != 0);
    CHECK_FALSE(raw_client(edge.port, t.pki.file("node.pem"), t.pki.file("node.key")));
    auto line = t.log->wait_for("where 'clients' or 'edge' expected", 20s);
    INFO(t.log->dump());
    REQUIRE(line);
    CHECK(line->find("TLS: refused peer 127.0.0.1:") == 0);
    CHECK(line->find(": certificate role 'server' where 'clients' or 'edge' expected") !=
          std::string::npos);
    CHECK(caf_connects(patient(t.pki.tls("clients", "ca")), edge.port));
    // A child edge (the process-wide flag run_edge_node sets from --parent; accepting does not
    // depend on it).
    set_tls_edge_below_parent(true);
    CHECK(caf_connects(patient(t.pki.tls("peer", "ca")), edge.port));
    set_tls_edge_below_parent(false);
  }
  {
    // A client host reaching a server: the host itself refuses the server's certificate.
    tls_listener server{patient(t.pki.tls("node", "ca"))};
    REQUIRE(server.port != 0);
    CHECK_FALSE(caf_connects(patient(t.pki.tls("clients", "ca")), server.port));
    auto line = t.log->wait_for("certificate role 'server' where 'edge' expected", 20s);
    INFO(t.log->dump());
    REQUIRE(line);
    CHECK(line->find("TLS: handshake with 127.0.0.1:" + std::to_string(server.port) +
                     " failed: ") == 0);
  }
}

TEST_CASE("role-less certificates are refused unless accepted", "[host][tls]") {
  role_test t;
  REQUIRE(t.pki.ok());
  tls_listener server{patient(t.pki.tls("node", "ca"))};
  REQUIRE(server.port != 0);
  set_tls_accept_roleless(false);
  CHECK_FALSE(raw_client(server.port, t.pki.file("roleless.pem"), t.pki.file("roleless.key")));
  auto line = t.log->wait_for("certificate without a role", 20s);
  INFO(t.log->dump());
  REQUIRE(line);
  CHECK(line->find(": certificate without a role where 'edge' expected") != std::string::npos);
  // Accepted (--tls-accept-roleless): in any role; a wrong role is still refused.
  set_tls_accept_roleless(true);
  CHECK(raw_client(server.port, t.pki.file("roleless.pem"), t.pki.file("roleless.key")));
  CHECK_FALSE(raw_client(server.port, t.pki.file("other.pem"), t.pki.file("other.key")));
  auto lab = t.log->wait_for("certificate role 'lab' where 'edge' expected", 20s);
  INFO(t.log->dump());
  CHECK(lab.has_value());
}
