// SSL_set_fd, SSL_read and SSL_write interposers: the bytes of a node's TLS links (see
// tls_byte_meter.hpp).

#include "runtime/host/tls_byte_meter.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "runtime/host/basp_frame_check.hpp"

namespace fedactor {

namespace {

template <class F>
F ssl_fn(const char* name, void* where = RTLD_DEFAULT) {
  return reinterpret_cast<F>(dlsym(where, name));
}

// libssl's functions this file calls, looked up at run time (the executable does not link
// libssl itself; CAF's openssl module does).
struct ssl_api {
  BIO* (*rbio)(const SSL*) = ssl_fn<BIO* (*)(const SSL*)>("SSL_get_rbio");
  int (*is_server)(const SSL*) = ssl_fn<int (*)(const SSL*)>("SSL_is_server");
  void* (*get_ex)(const SSL*, int) = ssl_fn<void* (*)(const SSL*, int)>("SSL_get_ex_data");
  int (*set_ex)(SSL*, int, void*) = ssl_fn<int (*)(SSL*, int, void*)>("SSL_set_ex_data");
  bool ok() const { return rbio && is_server && get_ex && set_ex; }
};

const ssl_api& api() {
  static const ssl_api a;
  return a;
}

// The meters' counters by the local port they watch.
struct watched_ports {
  std::mutex mu;
  std::map<uint16_t, std::shared_ptr<byte_counters>> by_port;
};

watched_ports& watched() {
  static watched_ports w;
  return w;
}

std::shared_ptr<byte_counters> counters_for_port(uint16_t port) {
  auto& w = watched();
  std::lock_guard<std::mutex> lock{w.mu};
  auto it = w.by_port.find(port);
  return it == w.by_port.end() ? nullptr : it->second;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

// One TLS session on a watched port. Used on the thread that drives the session (CAF's
// multiplexer); the counters are atomic.
struct tls_link {
  SSL* ssl;
  std::shared_ptr<byte_counters> counters;
  enum class mode { pending, counted, off } state = mode::pending;
  // The peer's plaintext stream and the node's, parsed to count their frames.
  basp_frame_check up{UINT64_MAX};
  basp_frame_check down{UINT64_MAX};
  std::array<uint64_t, 7> ops_up{}, ops_down{};  // of the checks' tallies, counted so far
  byte_counters::message_tally messages_up{}, messages_down{};
  peer_kind kind = peer_kind::unregistered;
  uint64_t bytes_up = 0, bytes_down = 0;  // ciphertext

  tls_link(SSL* s, std::shared_ptr<byte_counters> c) : ssl(s), counters(std::move(c)) {}

  // Decided at the session's first I/O: CAF calls SSL_set_accept_state after SSL_set_fd.
  bool counting() {
    if (state == mode::pending) {
      state = api().is_server(ssl) == 1 ? mode::counted : mode::off;
      if (state == mode::counted) counters->add_connection();
    }
    return state == mode::counted;
  }

  void ciphertext(uint64_t from, uint64_t to) {
    if (!counting()) return;
    if (from > 0) counters->add_from_peer(from);
    if (to > 0) counters->add_to_peer(to);
    bytes_up += from;
    bytes_down += to;
    counters->add_peer_bytes(kind, from, to);
  }

  void plaintext_from_peer(const void* data, size_t n) {
    if (!counting()) return;
    up.feed(static_cast<const char*>(data), n);
    counters->add_from_peer_frames(up.bytes_by_op(), ops_up);
    counters->add_from_peer_messages(up.bytes_by_message(), messages_up);
    if (kind != peer_kind::unregistered) return;
    // Once the peer's registration has been read: its bytes so far count as that kind's.
    if (const auto found = up.registered_as()) {
      counters->move_peer_bytes(kind, *found, bytes_up, bytes_down);
      kind = *found;
    }
  }

  void plaintext_to_peer(const void* data, size_t n) {
    if (!counting()) return;
    down.feed(static_cast<const char*>(data), n);
    counters->add_to_peer_frames(down.bytes_by_op(), ops_down);
    counters->add_to_peer_messages(down.bytes_by_message(), messages_down);
  }
};

// With the session: its socket BIO, freed right after, forgets the state first.
void free_link(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  auto* link = static_cast<tls_link*>(ptr);
  if (link == nullptr) return;
  if (BIO* socket = api().ok() ? api().rbio(static_cast<SSL*>(parent)) : nullptr)
    if (BIO_get_callback_arg(socket) == reinterpret_cast<char*>(link)) {
      BIO_set_callback_ex(socket, nullptr);
      BIO_set_callback_arg(socket, nullptr);
    }
  delete link;
}

int link_index() {
  static const int index =
      CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, &free_link);
  return index;
}

tls_link* link_of(const SSL* ssl) {
  const auto& a = api();
  const int index = link_index();
  if (ssl == nullptr || !a.ok() || index < 0) return nullptr;
  return static_cast<tls_link*>(a.get_ex(ssl, index));
}

// The socket BIO's callback: the bytes each read and write moved through the socket. Every
// other operation (and BIO_CB_FREE, which may come after the session's ex-data is freed) is
// left alone.
long count_socket_bytes(BIO* b, int oper, const char*, size_t, int, long, int ret,
                        size_t* processed) {
  const bool read = oper == (BIO_CB_READ | BIO_CB_RETURN);
  const bool write = oper == (BIO_CB_WRITE | BIO_CB_RETURN);
  if ((!read && !write) || ret <= 0 || processed == nullptr || *processed == 0) return ret;
  auto* link = reinterpret_cast<tls_link*>(BIO_get_callback_arg(b));
  if (link != nullptr) link->ciphertext(read ? *processed : 0, write ? *processed : 0);
  return ret;
}

// After libssl's SSL_set_fd: a session on a watched port gets its state and its socket BIO the
// counting callback.
void attach(SSL* ssl, int fd) {
  const auto& a = api();
  const int index = link_index();
  if (ssl == nullptr || !a.ok() || index < 0) return;
  auto* link = static_cast<tls_link*>(a.get_ex(ssl, index));
  if (link == nullptr) {
    auto counters = counters_for_port(local_port(fd));
    if (!counters) return;
    link = new tls_link(ssl, std::move(counters));
    if (a.set_ex(ssl, index, link) != 1) {
      delete link;
      return;
    }
  }
  if (BIO* socket = a.rbio(ssl)) {
    BIO_set_callback_arg(socket, reinterpret_cast<char*>(link));
    BIO_set_callback_ex(socket, &count_socket_bytes);
  }
}

}  // namespace

tls_byte_meter::tls_byte_meter() : counters_(std::make_shared<byte_counters>()) {}

tls_byte_meter::~tls_byte_meter() {
  watch(0);
}

void tls_byte_meter::watch(uint16_t port) {
  auto& w = watched();
  std::lock_guard<std::mutex> lock{w.mu};
  if (port_ != 0) {
    auto it = w.by_port.find(port_);
    if (it != w.by_port.end() && it->second == counters_) w.by_port.erase(it);
  }
  port_ = port;
  if (port != 0) w.by_port[port] = counters_;
}

byte_totals tls_byte_meter::bytes() const {
  return counters_->totals();
}

}  // namespace fedactor

// Interposes libssl's SSL_set_fd, SSL_read and SSL_write (see tls_byte_meter.hpp).
extern "C" int SSL_set_fd(SSL* ssl, int fd) {
  using real_fn = int (*)(SSL*, int);
  static auto real = fedactor::ssl_fn<real_fn>("SSL_set_fd", RTLD_NEXT);
  if (!real) return 0;
  const int ok = real(ssl, fd);
  if (ok == 1) fedactor::attach(ssl, fd);
  return ok;
}

extern "C" int SSL_read(SSL* ssl, void* buf, int num) {
  using real_fn = int (*)(SSL*, void*, int);
  static auto real = fedactor::ssl_fn<real_fn>("SSL_read", RTLD_NEXT);
  if (!real) return -1;
  const int n = real(ssl, buf, num);
  if (n > 0)
    if (auto* link = fedactor::link_of(ssl)) link->plaintext_from_peer(buf, static_cast<size_t>(n));
  return n;
}

extern "C" int SSL_write(SSL* ssl, const void* buf, int num) {
  using real_fn = int (*)(SSL*, const void*, int);
  static auto real = fedactor::ssl_fn<real_fn>("SSL_write", RTLD_NEXT);
  if (!real) return -1;
  const int n = real(ssl, buf, num);
  if (n > 0)
    if (auto* link = fedactor::link_of(ssl)) link->plaintext_to_peer(buf, static_cast<size_t>(n));
  return n;
}
