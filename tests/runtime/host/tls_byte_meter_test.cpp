// tls_byte_meter: the SSL_set_fd / SSL_read / SSL_write interposers. A TLS connection over
// 127.0.0.1 driven by hand with libssl as CAF's openssl module drives it (TLS_method,
// SSL_set_fd, then SSL_set_accept_state / SSL_set_connect_state; libssl looked up at run time,
// as the interposers are found by CAF): the accepting side's counts of the encrypted bytes
// equal the kernel's TCP payload counts (TCP_INFO) of the connecting side's socket, and the
// plaintext split by BASP frame kind, message kind and peer kind is exact for the hand-built
// stream of the guard's test (tests/runtime/host/byte_counters_test.cpp). The connecting side,
// or a port no meter watches, is not counted.

#include "runtime/host/tls_byte_meter.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>
#include <vector>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <catch2/catch.hpp>

#include "tests/runtime/host/node_test_support.hpp"
#include "tests/support/basp_stream.hpp"

using namespace fedactor;
using namespace fedactor::testing;

namespace {

// The libssl functions a hand-made session needs, as the process resolves them (the
// interposers for SSL_set_fd, SSL_read and SSL_write).
struct ssl_api {
  template <class F>
  static F fn(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
  }
  const SSL_METHOD* (*method)() = fn<const SSL_METHOD* (*)()>("TLS_method");
  SSL_CTX* (*ctx_new)(const SSL_METHOD*) = fn<SSL_CTX* (*)(const SSL_METHOD*)>("SSL_CTX_new");
  void (*ctx_free)(SSL_CTX*) = fn<void (*)(SSL_CTX*)>("SSL_CTX_free");
  int (*use_cert)(SSL_CTX*, const char*,
                  int) = fn<int (*)(SSL_CTX*, const char*, int)>("SSL_CTX_use_certificate_file");
  int (*use_key)(SSL_CTX*, const char*,
                 int) = fn<int (*)(SSL_CTX*, const char*, int)>("SSL_CTX_use_PrivateKey_file");
  SSL* (*ssl_new)(SSL_CTX*) = fn<SSL* (*)(SSL_CTX*)>("SSL_new");
  void (*ssl_free)(SSL*) = fn<void (*)(SSL*)>("SSL_free");
  int (*set_fd)(SSL*, int) = fn<int (*)(SSL*, int)>("SSL_set_fd");
  void (*accept_state)(SSL*) = fn<void (*)(SSL*)>("SSL_set_accept_state");
  void (*connect_state)(SSL*) = fn<void (*)(SSL*)>("SSL_set_connect_state");
  int (*accept)(SSL*) = fn<int (*)(SSL*)>("SSL_accept");
  int (*connect)(SSL*) = fn<int (*)(SSL*)>("SSL_connect");
  int (*read)(SSL*, void*, int) = fn<int (*)(SSL*, void*, int)>("SSL_read");
  int (*write)(SSL*, const void*, int) = fn<int (*)(SSL*, const void*, int)>("SSL_write");

  bool ok() const {
    return method && ctx_new && ctx_free && use_cert && use_key && ssl_new && ssl_free && set_fd &&
           accept_state && connect_state && accept && connect && read && write;
  }
};

int tcp_socket() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{20, 0};  // nothing blocks for ever
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

sockaddr_in loopback_address(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

// One side of the connection: a session on `fd` with `who`'s certificate of `pki`, set up as
// caf::openssl::session::try_accept / try_connect do.
class tls_side {
 public:
  tls_side(const ssl_api& api, const test_pki& pki, const std::string& who, int fd, bool accepting)
      : api_(api), accepting_(accepting) {
    // The certificate goes into the context before the session is made from it.
    ctx_ = api_.ctx_new(api_.method());
    ok_ = ctx_ != nullptr &&
          api_.use_cert(ctx_, pki.file(who + ".pem").c_str(), SSL_FILETYPE_PEM) == 1 &&
          api_.use_key(ctx_, pki.file(who + ".key").c_str(), SSL_FILETYPE_PEM) == 1;
    ssl_ = ok_ ? api_.ssl_new(ctx_) : nullptr;
    ok_ = ssl_ != nullptr && api_.set_fd(ssl_, fd) == 1;
    if (!ok_) return;
    if (accepting)
      api_.accept_state(ssl_);
    else
      api_.connect_state(ssl_);
  }
  ~tls_side() {
    if (ssl_ != nullptr) api_.ssl_free(ssl_);
    if (ctx_ != nullptr) api_.ctx_free(ctx_);
    ERR_clear_error();
  }
  tls_side(const tls_side&) = delete;
  tls_side& operator=(const tls_side&) = delete;

  bool handshake() { return ok_ && (accepting_ ? api_.accept(ssl_) : api_.connect(ssl_)) == 1; }
  bool send(const std::vector<char>& data) {
    return api_.write(ssl_, data.data(), static_cast<int>(data.size())) ==
           static_cast<int>(data.size());
  }
  // Reads n bytes; fewer when the connection fails or ends first.
  std::vector<char> receive(size_t n) {
    std::vector<char> out(n);
    size_t got = 0;
    while (got < n) {
      const int r = api_.read(ssl_, out.data() + got, static_cast<int>(n - got));
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }

 private:
  const ssl_api& api_;
  bool accepting_;
  bool ok_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// The node sends a server handshake (50 payload bytes), two heartbeats, an edge_ins of 3,000
// payload bytes and a control message of 40; the peer a client handshake of 100 payload bytes,
// three heartbeats, a host_join of 50 (a client host registering), a train_res of 200,000 and a
// direct message whose payload is junk to the classifier (1,000 'x': other). The streams of
// the guard's test.
std::vector<char> node_stream() {
  return concat({frame(0, 50), frame(6, 0), frame(6, 0), frame(2, 3000, "fedactor::edge_ins"),
                 frame(2, 40, "fedactor::node_ack")});
}
std::vector<char> peer_stream() {
  return concat({frame(1, 100), frame(6, 0), frame(6, 0), frame(6, 0),
                 frame(2, 50, "fedactor::host_join"), frame(2, 200000, "fedactor::train_res"),
                 frame(2, 1000)});
}

int listening_socket() {
  const int fd = tcp_socket();
  const auto a = loopback_address(0);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

// A TLS connection over 127.0.0.1: the node (a thread) accepts on `listener`, the peer
// connects from `peer`; each sends its stream and reads the other's. The connection stays
// open (the kernel's counts can be read) until close().
class tls_exchange {
 public:
  tls_exchange(const test_pki& pki, int listener, int peer)
      : peer_fd_(peer), to_peer_(node_stream()), from_peer_(peer_stream()) {
    REQUIRE(api_.ok());
    node_ = std::thread{[this, &pki, listener] {
      const int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      {
        tls_side s{api_, pki, "node", fd, true};
        if (s.handshake() && s.send(to_peer_)) node_got = s.receive(from_peer_.size());
        char c;  // the peer's close
        ::recv(fd, &c, 1, 0);
      }
      ::close(fd);
    }};
    const auto a = loopback_address(port_of(listener));
    if (::connect(peer_fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
      tls_side s{api_, pki, "peer", peer_fd_, false};
      if (s.handshake() && s.send(from_peer_)) peer_got = s.receive(to_peer_.size());
    }
  }
  ~tls_exchange() { close(); }

  void close() {
    if (peer_fd_ >= 0) ::close(peer_fd_);
    peer_fd_ = -1;
    if (node_.joinable()) node_.join();
  }
  const std::vector<char>& to_peer() const { return to_peer_; }
  const std::vector<char>& from_peer() const { return from_peer_; }

  std::vector<char> node_got, peer_got;

 private:
  ssl_api api_;
  int peer_fd_;
  std::vector<char> to_peer_, from_peer_;
  std::thread node_;
};

}  // namespace

TEST_CASE("tls_byte_meter counts what the kernel carries on a TLS loopback connection",
          "[host][bytes][tls]") {
  test_pki pki{"tls_byte_meter_kernel"};
  REQUIRE(pki.ok());
  const int listener = listening_socket();
  tls_byte_meter meter;
  meter.watch(port_of(listener));
  const int peer = tcp_socket();
  tls_exchange x{pki, listener, peer};
  REQUIRE(x.peer_got == x.to_peer());
  // The node's last reads may still be under way; the kernel's counts of the peer's socket
  // settle once the node's bytes are acknowledged.
  REQUIRE(eventually([&] {
    const auto t = meter.bytes();
    const auto ti = info_of(peer);
    return t.from_peers + 1 == ti.bytes_acked && t.to_peers == ti.bytes_received;
  }));
  const auto t = meter.bytes();
  const auto ti = info_of(peer);
  // Every byte both ways, handshake and records included (tcpi_bytes_acked of the connecting
  // side also counts the SYN).
  CHECK(t.from_peers + 1 == ti.bytes_acked);
  CHECK(t.to_peers == ti.bytes_received);
  // TLS adds its handshake and a record header and tag per record to the plaintext.
  CHECK(t.from_peers > x.from_peer().size());
  CHECK(t.to_peers > x.to_peer().size());
  CHECK(t.connections == 1);
  x.close();
  CHECK(x.node_got == x.from_peer());
  ::close(listener);
}

TEST_CASE(
    "tls_byte_meter splits the plaintext by frame, message and peer kind exactly, at the "
    "accepting side only",
    "[host][bytes][tls]") {
  test_pki pki{"tls_byte_meter_split"};
  REQUIRE(pki.ok());
  const int listener = listening_socket();
  tls_byte_meter meter;
  meter.watch(port_of(listener));
  // A meter watching the connecting side's own port: its session is not an accepted one.
  const int peer = tcp_socket();
  const auto any = loopback_address(0);
  REQUIRE(::bind(peer, reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0);
  tls_byte_meter outgoing;
  outgoing.watch(port_of(peer));
  tls_byte_meter elsewhere;  // a port nobody uses
  {
    const int unused = listening_socket();
    elsewhere.watch(port_of(unused));
    ::close(unused);
  }
  tls_exchange x{pki, listener, peer};
  REQUIRE(x.peer_got == x.to_peer());
  x.close();  // the node has read everything
  REQUIRE(x.node_got == x.from_peer());
  const auto t = meter.bytes();
  // handshake, message, monitor, heartbeat: the plaintext BASP stream, as the guard counts it.
  CHECK(t.from_peers_by_kind == std::array<uint64_t, 4>{132, 201146, 0, 96});
  CHECK(t.to_peers_by_kind == std::array<uint64_t, 4>{82, 3104, 0, 64});
  // task, model, result, aggregate, control, other
  CHECK(t.from_peers_by_message == std::array<uint64_t, 6>{0, 0, 200032, 0, 82, 1032});
  CHECK(t.to_peers_by_message == std::array<uint64_t, 6>{0, 3032, 0, 0, 72, 0});
  // The peer registered as a client host: all of its connection's (encrypted) bytes are a
  // client host's. (edges, client hosts, unregistered)
  CHECK(t.from_peers_by_peer == std::array<uint64_t, 3>{0, t.from_peers, 0});
  CHECK(t.to_peers_by_peer == std::array<uint64_t, 3>{0, t.to_peers, 0});
  CHECK(t.connections == 1);
  for (const auto* other : {&outgoing, &elsewhere}) {
    const auto o = other->bytes();
    CHECK(o.from_peers == 0);
    CHECK(o.to_peers == 0);
    CHECK(o.connections == 0);
  }
  ::close(listener);
}
