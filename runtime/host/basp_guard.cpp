#include "runtime/host/basp_guard.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "runtime/host/basp_frame_check.hpp"

namespace fedactor {

namespace asio = boost::asio;
using asio::ip::tcp;

struct basp_guard::impl {
  basp_guard_config cfg;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> truncated{0};
  byte_counters bytes;
  uint32_t connections = 0;  // on the guard's thread only
  std::thread thread;

  void log(const std::string& line) const {
    if (cfg.log) cfg.log(line);
  }
  void accept();
};

namespace {

// Relays open now in this process, by the local port of their connection to the node.
struct origins {
  std::mutex mu;
  std::map<uint16_t, std::string> by_port;
};

origins& relay_origins() {
  static origins o;
  return o;
}

std::string name_of(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  return ec ? std::string{"(unknown peer)"}
            : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// One peer's connection and its relay to the node's inner port.
struct relay : std::enable_shared_from_this<relay> {
  basp_guard::impl* guard;  // outlives every relay: they live in its io_context
  tcp::socket peer;
  tcp::socket inner;
  asio::steady_timer stall;  // runs while the peer's stream ends inside a frame
  uint64_t reads = 0;        // reads from the peer completed (the stall timer's generation)
  basp_frame_check check;
  basp_frame_check check_down;  // the node's stream, parsed only to count its frames
  std::array<uint64_t, 7> counted_up{}, counted_down{};  // of the checks' tallies
  byte_counters::message_tally messages_up{}, messages_down{};
  // Who the peer is (unregistered until its registration is read) and its bytes so far.
  peer_kind kind = peer_kind::unregistered;
  uint64_t bytes_up = 0, bytes_down = 0;
  std::string who;
  std::array<char, 64 * 1024> up{}, down{};
  bool closed = false;
  uint16_t relay_port = 0;  // local port of `inner`, listed in relay_origins() while open

  relay(basp_guard::impl* g, tcp::socket s)
      : guard(g),
        peer(std::move(s)),
        inner(g->io),
        stall(g->io),
        check(g->cfg.max_payload),
        check_down(UINT64_MAX),
        who(name_of(peer)) {}

  void start() {
    auto self = shared_from_this();
    inner.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), guard->cfg.inner_port},
                        [self](const boost::system::error_code& ec) {
                          if (ec) {
                            self->guard->log("guard: cannot reach the node's own port for peer " +
                                             self->who + ": " + ec.message());
                            self->close();
                            return;
                          }
                          boost::system::error_code ignored;
                          self->note_origin();
                          self->peer.set_option(tcp::no_delay{true}, ignored);
                          self->inner.set_option(tcp::no_delay{true}, ignored);
                          self->from_peer();
                          self->from_node();
                        });
  }

  void from_peer() {
    auto self = shared_from_this();
    watch();
    peer.async_read_some(asio::buffer(up), [self](const boost::system::error_code& ec, size_t n) {
      ++self->reads;
      self->stall.cancel();
      if (ec) {
        if (auto cut = self->check.incomplete(); cut && !self->closed) {
          ++self->guard->truncated;
          self->guard->log("peer " + self->who + " went away inside a frame: " + *cut +
                           "; connection closed");
        }
        return self->close();
      }
      auto& bytes = self->guard->bytes;
      bytes.add_from_peer(n);
      const auto why = self->check.feed(self->up.data(), n);
      bytes.add_from_peer_frames(self->check.bytes_by_op(), self->counted_up);
      bytes.add_from_peer_messages(self->check.bytes_by_message(), self->messages_up);
      self->bytes_up += n;
      bytes.add_peer_bytes(self->kind, n, 0);
      self->note_peer_kind();
      if (why) {
        ++self->guard->refused;
        self->guard->log("refused peer " + self->who + ": " + *why + "; connection closed");
        return self->close();
      }
      asio::async_write(self->inner, asio::buffer(self->up.data(), n),
                        [self](const boost::system::error_code& wec, size_t) {
                          if (wec) return self->close();
                          self->from_peer();
                        });
    });
  }

  // While a read from the peer is pending and its stream ends inside a frame, the peer has
  // frame_timeout to send more (the time our writes to the node take is not counted).
  void watch() {
    if (!check.incomplete()) return;
    auto self = shared_from_this();
    const uint64_t armed_at = reads;
    stall.expires_after(guard->cfg.frame_timeout);
    stall.async_wait([self, armed_at](const boost::system::error_code& ec) {
      // Cancelled, or bytes came in after all (the cancel raced the expiry).
      if (ec || self->closed || self->reads != armed_at) return;
      auto cut = self->check.incomplete();
      if (!cut) return;
      ++self->guard->truncated;
      self->guard->log("refused peer " + self->who + ": " + *cut + ", then nothing for " +
                       std::to_string(self->guard->cfg.frame_timeout.count()) +
                       " ms; connection closed");
      self->close();
    });
  }

  void from_node() {
    auto self = shared_from_this();
    inner.async_read_some(asio::buffer(down), [self](const boost::system::error_code& ec,
                                                     size_t n) {
      if (ec) return self->close();
      self->check_down.feed(self->down.data(), n);
      asio::async_write(
          self->peer, asio::buffer(self->down.data(), n),
          [self](const boost::system::error_code& wec, size_t w) {
            auto& bytes = self->guard->bytes;
            bytes.add_to_peer(w);
            self->bytes_down += w;
            bytes.add_peer_bytes(self->kind, 0, w);
            if (wec) return self->close();
            bytes.add_to_peer_frames(self->check_down.bytes_by_op(), self->counted_down);
            bytes.add_to_peer_messages(self->check_down.bytes_by_message(), self->messages_down);
            self->from_node();
          });
    });
  }

  // Once the peer's registration has been read: its bytes so far count as that kind's.
  void note_peer_kind() {
    if (kind != peer_kind::unregistered) return;
    const auto found = check.registered_as();
    if (!found) return;
    guard->bytes.move_peer_bytes(kind, *found, bytes_up, bytes_down);
    kind = *found;
  }

  // The node sees this peer at inner's local port: remember whose it is.
  void note_origin() {
    boost::system::error_code ec;
    const auto ep = inner.local_endpoint(ec);
    if (ec) return;
    relay_port = ep.port();
    auto& o = relay_origins();
    std::lock_guard<std::mutex> lock{o.mu};
    o.by_port[relay_port] = who;
  }

  void forget_origin() {
    if (relay_port == 0) return;
    auto& o = relay_origins();
    std::lock_guard<std::mutex> lock{o.mu};
    auto it = o.by_port.find(relay_port);
    if (it != o.by_port.end() && it->second == who) o.by_port.erase(it);
    relay_port = 0;
  }

  ~relay() { forget_origin(); }

  void close() {
    if (closed) return;
    closed = true;
    forget_origin();
    --guard->connections;
    stall.cancel();
    boost::system::error_code ignored;
    peer.shutdown(tcp::socket::shutdown_both, ignored);
    peer.close(ignored);
    inner.shutdown(tcp::socket::shutdown_both, ignored);
    inner.close(ignored);
  }
};

}  // namespace

void basp_guard::impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (connections >= cfg.max_connections) {
        log("refused peer " + name_of(s) + ": " + std::to_string(connections) +
            " connections open already; connection closed");
        ++refused;
        boost::system::error_code ignored;
        s.close(ignored);
      } else {
        ++connections;
        bytes.add_connection();
        std::make_shared<relay>(this, std::move(s))->start();
      }
    }
    accept();
  });
}

basp_guard::basp_guard(basp_guard_config cfg) : impl_(std::make_shared<impl>()) {
  impl_->cfg = std::move(cfg);
  const std::string host = impl_->cfg.host.empty() ? "0.0.0.0" : impl_->cfg.host;
  const std::string where = host + ":" + std::to_string(impl_->cfg.port);
  try {
    tcp::resolver resolver{impl_->io};
    auto found = resolver.resolve(host, std::to_string(impl_->cfg.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service);
    if (found.empty()) throw std::runtime_error("no such address");
    const tcp::endpoint ep = *found.begin();
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + where + ": " + e.what());
  }
  impl_->accept();
  impl_->thread = std::thread([i = impl_.get()] { i->io.run(); });
}

basp_guard::~basp_guard() {
  asio::post(impl_->io, [i = impl_.get()] {
    boost::system::error_code ignored;
    i->acceptor.close(ignored);
    i->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t basp_guard::port() const {
  return impl_->acceptor.local_endpoint().port();
}

uint64_t basp_guard::refused() const {
  return impl_->refused.load();
}

uint64_t basp_guard::truncated() const {
  return impl_->truncated.load();
}

byte_totals basp_guard::bytes() const {
  return impl_->bytes.totals();
}

std::optional<std::string> guarded_peer_origin(uint16_t relay_port) {
  auto& o = relay_origins();
  std::lock_guard<std::mutex> lock{o.mu};
  auto it = o.by_port.find(relay_port);
  if (it == o.by_port.end()) return std::nullopt;
  return it->second;
}

}  // namespace fedactor
