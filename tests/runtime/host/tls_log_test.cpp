// tls_log: the SSL_get_error interposer. Without a real handshake: failed handshakes driven
// by hand on loopback sockets (libssl looked up at run time, as tls_log.cpp does), with and
// without a sink, on the accepting and the connecting side. With one: CAF's openssl module
// refusing a peer certified by another CA, and a plain-TCP peer, with the test certificates
// made as in tests/runtime/cli/node_command_test.cpp.

#include "runtime/host/tls_log.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
#include "tests/runtime/host/node_test_support.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

// The libssl functions a hand-made handshake needs (the test binary does not link libssl
// itself; CAF's openssl module does).
struct ssl_api {
  template <class F>
  static F fn(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
  }
  const SSL_METHOD* (*server_method)() = fn<const SSL_METHOD* (*)()>("TLS_server_method");
  const SSL_METHOD* (*client_method)() = fn<const SSL_METHOD* (*)()>("TLS_client_method");
  SSL_CTX* (*ctx_new)(const SSL_METHOD*) = fn<SSL_CTX* (*)(const SSL_METHOD*)>("SSL_CTX_new");
  void (*ctx_free)(SSL_CTX*) = fn<void (*)(SSL_CTX*)>("SSL_CTX_free");
  SSL* (*ssl_new)(SSL_CTX*) = fn<SSL* (*)(SSL_CTX*)>("SSL_new");
  void (*ssl_free)(SSL*) = fn<void (*)(SSL*)>("SSL_free");
  int (*set_fd)(SSL*, int) = fn<int (*)(SSL*, int)>("SSL_set_fd");
  int (*accept)(SSL*) = fn<int (*)(SSL*)>("SSL_accept");
  int (*connect)(SSL*) = fn<int (*)(SSL*)>("SSL_connect");

  bool ok() const {
    return server_method && client_method && ctx_new && ctx_free && ssl_new && ssl_free && set_fd &&
           accept && connect;
  }
};

// A TCP connection over 127.0.0.1: `client` connected to a listener, `server` accepted.
struct tcp_pair {
  loopback_socket listener{true};
  int client = -1;
  int server = -1;
  uint16_t client_port = 0;

  tcp_pair() {
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(listener.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    socklen_t len = sizeof a;
    if (::getsockname(client, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      client_port = ntohs(a.sin_port);
    server = ::accept(listener.fd(), nullptr, nullptr);
  }
  ~tcp_pair() {
    if (client >= 0) ::close(client);
    if (server >= 0) ::close(server);
  }
  bool ok() const { return client >= 0 && server >= 0 && client_port != 0; }
};

void send_text(int fd, const std::string& text) {
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

// One handshake step on `fd` as the accepting (server) or connecting side; what
// SSL_get_error (the interposer) answers.
int failed_handshake(const ssl_api& api, int fd, bool server) {
  SSL_CTX* ctx = api.ctx_new(server ? api.server_method() : api.client_method());
  REQUIRE(ctx != nullptr);
  SSL* ssl = api.ssl_new(ctx);
  REQUIRE(ssl != nullptr);
  REQUIRE(api.set_fd(ssl, fd) == 1);
  const int ret = server ? api.accept(ssl) : api.connect(ssl);
  CHECK(ret <= 0);
  const int code = SSL_get_error(ssl, ret);
  api.ssl_free(ssl);
  api.ctx_free(ctx);
  ERR_clear_error();
  return code;
}

// Installs a sink into `log` for the test's duration; removes it at the end.
struct sink_guard {
  std::shared_ptr<line_log> log = std::make_shared<line_log>();
  sink_guard() { set_tls_refusal_log(sink(log)); }
  ~sink_guard() { set_tls_refusal_log({}); }
};

const std::string not_tls = "GARBAGE that is not a TLS record, not even close\r\n\r\n";

caf::actor spawn_idle(caf::actor_system& sys) {
  return sys.spawn(
      [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
}

}  // namespace

TEST_CASE("a refused handshake on the accepting side is logged with the peer's address", "[host]") {
  ssl_api api;
  REQUIRE(api.ok());
  tcp_pair tcp;
  REQUIRE(tcp.ok());
  sink_guard guard;
  send_text(tcp.client, not_tls);
  CHECK(failed_handshake(api, tcp.server, true) == SSL_ERROR_SSL);
  auto lines = guard.log->lines();
  REQUIRE(lines.size() == 1);
  const std::string prefix =
      "TLS: refused peer 127.0.0.1:" + std::to_string(tcp.client_port) + ": ";
  INFO(lines[0]);
  REQUIRE(lines[0].rfind(prefix, 0) == 0);
  const std::string reason = lines[0].substr(prefix.size());
  // OpenSSL's reason only: "error:0A00010B:SSL routines::wrong version number" -> the last part.
  CHECK_FALSE(reason.empty());
  CHECK(reason.find(':') == std::string::npos);
  CHECK(reason.find("error") == std::string::npos);
  CHECK(reason == "wrong version number");
}

TEST_CASE("a failed handshake on the connecting side names the address it connected to", "[host]") {
  ssl_api api;
  REQUIRE(api.ok());
  tcp_pair tcp;
  REQUIRE(tcp.ok());
  sink_guard guard;
  send_text(tcp.server, not_tls);  // already there when the client reads the server hello
  CHECK(failed_handshake(api, tcp.client, false) == SSL_ERROR_SSL);
  auto lines = guard.log->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "TLS: handshake with 127.0.0.1:" + std::to_string(tcp.listener.port()) +
                        " failed: wrong version number");
}

TEST_CASE("a peer that hangs up during the handshake is logged as a refusal too", "[host]") {
  ssl_api api;
  REQUIRE(api.ok());
  tcp_pair tcp;
  REQUIRE(tcp.ok());
  sink_guard guard;
  REQUIRE(::shutdown(tcp.client, SHUT_WR) == 0);  // EOF before any byte
  const int code = failed_handshake(api, tcp.server, true);
  CHECK((code == SSL_ERROR_SSL || code == SSL_ERROR_SYSCALL));
  auto lines = guard.log->lines();
  REQUIRE(lines.size() == 1);
  INFO(lines[0]);
  CHECK(lines[0].rfind("TLS: refused peer 127.0.0.1:" + std::to_string(tcp.client_port) + ": ",
                       0) == 0);
}

TEST_CASE("without a sink, or once it is removed, SSL_get_error only forwards", "[host]") {
  ssl_api api;
  REQUIRE(api.ok());
  auto log = std::make_shared<line_log>();
  set_tls_refusal_log({});
  {
    tcp_pair tcp;
    REQUIRE(tcp.ok());
    send_text(tcp.client, not_tls);
    CHECK(failed_handshake(api, tcp.server, true) == SSL_ERROR_SSL);
  }
  set_tls_refusal_log(sink(log));
  set_tls_refusal_log({});
  {
    tcp_pair tcp;
    REQUIRE(tcp.ok());
    send_text(tcp.client, not_tls);
    CHECK(failed_handshake(api, tcp.server, true) == SSL_ERROR_SSL);
  }
  CHECK(log->lines().empty());
  // A sink replaced by another: only the latest one is called.
  auto second = std::make_shared<line_log>();
  set_tls_refusal_log(sink(log));
  set_tls_refusal_log(sink(second));
  {
    tcp_pair tcp;
    REQUIRE(tcp.ok());
    send_text(tcp.client, not_tls);
    CHECK(failed_handshake(api, tcp.server, true) == SSL_ERROR_SSL);
  }
  set_tls_refusal_log({});
  CHECK(log->lines().empty());
  CHECK(second->lines().size() == 1);
}

// Each peer below meets a server of its own: CAF never clears OpenSSL's per-thread error
// queue after a failed handshake, so on a shared server thread a failure can leak into
// another session's handshake (its SSL_get_error then reports the stale error).
TEST_CASE(
    "CAF's TLS refuses a peer from another CA, an expired certificate and a plain peer, "
    "each logged",
    "[host]") {
  test_pki pki{"tls_log"};
  REQUIRE(pki.ok());
  sink_guard guard;
  struct tls_server {
    system_config cfg;
    std::unique_ptr<caf::actor_system> sys;
    caf::actor idle;
    uint16_t port = 0;
    explicit tls_server(const node_net_options& net) {
      configure(cfg, net);
      sys = std::make_unique<caf::actor_system>(cfg);
      idle = spawn_idle(*sys);
      auto p = publish_on(*sys, idle, host_port{"127.0.0.1", 0}, net);
      if (p) port = *p;
    }
    ~tls_server() { caf::anon_send_exit(idle, caf::exit_reason::user_shutdown); }
  };
  auto attempt = [&](const node_net_options& net, uint16_t port) {
    system_config cfg;
    configure(cfg, net);
    caf::actor_system peer{cfg};
    return static_cast<bool>(connect_to<caf::actor>(peer, loopback(port), net));
  };

  {
    // The right CA: accepted.
    tls_server server{patient(pki.tls("node", "ca"))};
    REQUIRE(server.sys->has_openssl_manager());
    REQUIRE(server.port != 0);
    CHECK(attempt(patient(pki.tls("peer", "ca")), server.port));
  }
  {
    // Certified by another CA (and trusting ours): refused by the server's verification.
    tls_server server{patient(pki.tls("node", "ca"))};
    REQUIRE(server.port != 0);
    const std::string address = "127.0.0.1:" + std::to_string(server.port);
    CHECK_FALSE(attempt(patient(pki.tls("rogue", "ca")), server.port));
    // The server's verdict, with the peer's address (read from the socket while the peer
    // waits for the server's answer; "unknown peer" only if it had already hung up).
    auto refused = guard.log->wait_for("certificate verify failed", 20s);
    INFO(guard.log->dump());
    REQUIRE(refused);
    CHECK((refused->rfind("TLS: refused peer 127.0.0.1:", 0) == 0 ||
           refused->rfind("TLS: refused peer unknown peer: ", 0) == 0));
    const std::string why = ": certificate verify failed (unable to get local issuer certificate)";
    REQUIRE(refused->size() > why.size());
    CHECK(refused->substr(refused->size() - why.size()) == why);
    // What the rogue peer was told. The address is read when the failure is reported; once
    // the server has reset the connection it is gone ("unknown peer").
    auto told = guard.log->wait_for("TLS: handshake with ", 20s);
    REQUIRE(told);
    CHECK((told->rfind("TLS: handshake with " + address + " failed: ", 0) == 0 ||
           told->rfind("TLS: handshake with unknown peer failed: ", 0) == 0));
    CHECK(told->find("unknown ca") != std::string::npos);
  }
  {
    // Certified by our CA, but expired (valid in 2020 only): refused by the server.
    tls_server server{patient(pki.tls("node", "ca"))};
    REQUIRE(server.port != 0);
    CHECK_FALSE(attempt(patient(pki.tls("expired", "ca")), server.port));
    auto expired = guard.log->wait_for("certificate has expired", 20s);
    INFO(guard.log->dump());
    REQUIRE(expired);
    CHECK(expired->find("TLS: refused peer ") == 0);
    CHECK(expired->find("certificate verify failed (certificate has expired)") !=
          std::string::npos);
  }
  {
    // Plain TCP (BASP without TLS): refused.
    tls_server server{patient(pki.tls("node", "ca"))};
    REQUIRE(server.port != 0);
    CHECK_FALSE(attempt(patient(test_net()), server.port));
    auto wrong = guard.log->wait_for("wrong version number", 20s);
    INFO(guard.log->dump());
    REQUIRE(wrong);
    CHECK(wrong->rfind("TLS: refused peer 127.0.0.1:", 0) == 0);
  }
}

TEST_CASE("an accepted TLS peer that hangs up is not logged as refused", "[host]") {
  test_pki pki{"tls_log_eof"};
  REQUIRE(pki.ok());
  sink_guard guard;
  system_config cfg;
  const auto server_net = patient(pki.tls("node", "ca"));
  configure(cfg, server_net);
  caf::actor_system sys{cfg};
  auto idle = spawn_idle(sys);
  auto port = publish_on(sys, idle, host_port{"127.0.0.1", 0}, server_net);
  REQUIRE(port);
  {
    // Accepted, then the peer's system goes away: its connection ends without a TLS close.
    system_config pcfg;
    configure(pcfg, patient(pki.tls("peer", "ca")));
    caf::actor_system peer{pcfg};
    CHECK(static_cast<bool>(
        connect_to<caf::actor>(peer, loopback(*port), patient(pki.tls("peer", "ca")))));
  }
  {
    // Then a plain peer, refused: its line comes after whatever the first connection's end
    // produced on the server.
    system_config pcfg;
    configure(pcfg, test_net());
    caf::actor_system plain{pcfg};
    CHECK_FALSE(static_cast<bool>(connect_to<caf::actor>(plain, loopback(*port), test_net())));
  }
  auto wrong = guard.log->wait_for("wrong version number", 20s);
  INFO(guard.log->dump());
  REQUIRE(wrong);
  // Every refusal line is the plain peer's, once.
  const auto refused = wrong->substr(0, wrong->find(": wrong version number"));
  int refusals = 0;
  for (const auto& line : guard.log->lines()) {
    INFO(line);
    CHECK(line.find("unexpected eof") == std::string::npos);
    if (line.find("refused peer") == std::string::npos) continue;
    CHECK(line.rfind(refused + ": ", 0) == 0);
    ++refusals;
  }
  CHECK(refusals == 1);
  caf::anon_send_exit(idle, caf::exit_reason::user_shutdown);
}
