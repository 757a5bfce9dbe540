#pragma once

// What every distributed node shares (docs/deployment.md): network options (addresses,
// heartbeats, connection timeout, TLS), the actor-system set-up they imply, publishing
// and connecting (plain or TLS, same call), and a line logger.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/sec.hpp>

#include "runtime/host/basp_guard.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/host/tls_byte_meter.hpp"
#include "runtime/host/tls_role.hpp"

namespace fedactor {

struct host_port {
  std::string host;  // empty: the default bind address (see bind_address)
  uint16_t port = 0;
};

// "HOST:PORT", ":PORT" or "PORT" (IPv6: "[::1]:PORT"). nullopt + `error` when malformed.
std::optional<host_port> parse_host_port(const std::string& text, std::string& error);
std::string to_string(const host_port& x);

// "250ms", "5s", "1.5s", "2m", or a plain number of seconds. nullopt when malformed or < 0.
std::optional<caf::timespan> parse_duration(const std::string& text);
std::string format_duration(caf::timespan d);

// How an idle scheduler worker of a node waits for work (CAF's work-stealing policy).
// sleep (the default): 10 polls, then it sleeps on its queue's condition variable, woken by
//   the next message for it (and, with several workers, every 10 ms to steal work).
// spin: CAF's default: 100 polls, then 500 polls 50 us apart, then the condition variable.
//   Every idle worker wakes ~16,000 times a second for 25 ms after each burst of work: with
//   several nodes on a machine (or a node beside other work) those wake-ups take the cores
//   from the nodes that have work (W1 with 10 edges + 10 client hosts on 2 cores: 39-51 % of
//   the one-process rate with spin, 70-77 % with sleep; docs/benchmarks.md). spin only pays
//   on a node with several scheduler threads and cores of its own.
enum class idle_polling { sleep, spin };

// "sleep" | "spin"; nullopt for anything else.
std::optional<idle_polling> parse_idle_polling(const std::string& text);
const char* to_string(idle_polling p);

struct node_net_options {
  // Heartbeats and the connection timeout are always on: a peer that stops answering
  // (hung process, cut cable) is declared lost after `connection_timeout`.
  caf::timespan heartbeat = std::chrono::milliseconds(500);
  caf::timespan connection_timeout = std::chrono::seconds(5);
  // TLS with mutual authentication: all three or none.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // Take peers whose certificate carries no role in any role (runtime/host/tls_role.hpp).
  bool tls_accept_roleless = false;
  uint32_t threads = 0;  // scheduler threads; 0 = CAF's default (`fedactor node`: 1, below)
  idle_polling polling = idle_polling::sleep;

  bool tls() const { return !tls_cert.empty(); }
};

// The scheduler threads of a `fedactor node` process without --threads. A node's work runs in
// a few actors (server, edge, client host) and in trainer threads, which are detached when the
// scheduler has fewer than two workers per trainer (actors/trainer.cpp); CAF's own default,
// max(cores, 4) workers that poll while idle, made W1 across 21 processes on 2 cores 4x slower
// (docs/benchmarks.md, "W1 across processes").
constexpr uint32_t default_node_threads = 1;

// Checks the options (TLS files readable, all three or none, heartbeat < timeout).
std::optional<std::string> check(const node_net_options& opts);
// The same, and with TLS: the node's own certificate carries `role` (check_own_certificate).
std::optional<std::string> check(const node_net_options& opts, node_role role);

// Applies the options to a config before its actor_system starts: heartbeat interval,
// connection timeout, scheduler threads and their idle polling; with TLS loads
// caf::openssl::manager with the certificate, key and CA file (peers must present a certificate
// signed by that CA, with the role that belongs on the link: runtime/host/tls_role.hpp; sets
// tls_accept_roleless, which is process-wide).
void configure(system_config& cfg, const node_net_options& opts);

// The address a listener binds to: the one named, else 127.0.0.1 without TLS and every
// interface with TLS (peers are authenticated). nullptr = every interface.
const char* bind_address(const host_port& listen, const node_net_options& opts);

// Publishes `handle` at `listen` (plain or TLS) as it is, without a guard (nodes listen with
// listen_on); the port actually bound.
template <class Handle>
caf::expected<uint16_t> publish_on(caf::actor_system& sys, const Handle& handle,
                                   const host_port& listen, const node_net_options& opts) {
  const char* in = bind_address(listen, opts);
  if (opts.tls()) return caf::openssl::publish(handle, listen.port, in, true);
  return sys.middleman().publish(handle, listen.port, in, true);
}

// The largest BASP frame a node takes from a peer (basp_guard): the biggest fedactor message
// carries a model-sized aggregate and its auxiliary aggregate (exact sums, 16 bytes a value
// each) or a model and a control variate, and a round's client ids and per-client reports (4 +
// 24 bytes a client: runtime/protocol/client_report.hpp); 16 MiB covers the rest. Pass the
// most clients a round may have (selection.adaptive_size.max when it is on).
uint64_t max_frame_bytes(size_t num_params, uint64_t clients_per_round);

// Where a node listens for its peers: `port` is the one they connect to. With TLS the actor is
// published there. In plain TCP it is published on 127.0.0.1 at a port of its own and a
// basp_guard listens at `listen` in front of it, refusing malformed frames (and frames over
// max_payload bytes) with a line to `log`, and dropping a peer silent inside a frame for the
// connection timeout. With TLS a tls_byte_meter counts the bytes of the links accepted there
// instead. Keep the value while the node serves.
struct listening_port {
  uint16_t port = 0;
  std::shared_ptr<basp_guard> guard;          // plain TCP only
  std::shared_ptr<tls_byte_meter> tls_bytes;  // TLS only

  // The bytes exchanged with the peers so far (runtime/host/byte_counters.hpp): the guard's
  // or the TLS meter's; zero without either.
  byte_totals bytes() const {
    if (guard) return guard->bytes();
    if (tls_bytes) return tls_bytes->bytes();
    return {};
  }
  bool counts_bytes() const { return guard || tls_bytes; }
};

template <class Handle>
caf::expected<listening_port> listen_on(caf::actor_system& sys, const Handle& handle,
                                        const host_port& listen, const node_net_options& opts,
                                        uint64_t max_payload,
                                        std::function<void(const std::string&)> log) {
  listening_port out;
  if (opts.tls()) {
    // A fixed port is watched before the first peer can connect; port 0 once it is known.
    out.tls_bytes = std::make_shared<tls_byte_meter>();
    if (listen.port != 0) out.tls_bytes->watch(listen.port);
    auto port = publish_on(sys, handle, listen, opts);
    if (!port) return port.error();
    out.port = *port;
    out.tls_bytes->watch(*port);
    return out;
  }
  auto inner = publish_on(sys, handle, host_port{"127.0.0.1", 0}, opts);
  if (!inner) return inner.error();
  const char* in = bind_address(listen, opts);
  basp_guard_config g;
  g.host = in ? in : "0.0.0.0";
  g.port = listen.port;
  g.inner_port = *inner;
  g.max_payload = max_payload;
  g.frame_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(opts.connection_timeout);
  g.log = std::move(log);
  try {
    out.guard = std::make_shared<basp_guard>(std::move(g));
  } catch (const std::exception& e) {
    sys.middleman().unpublish(handle, *inner);
    return caf::make_error(caf::sec::cannot_open_port, e.what());
  }
  out.port = out.guard->port();
  return out;
}

// A fresh handle to the actor published at `peer` (plain or TLS); the interface must
// match the published one exactly.
template <class Handle>
caf::expected<Handle> connect_to(caf::actor_system& sys, const host_port& peer,
                                 const node_net_options& opts) {
  const std::string host = peer.host.empty() ? "127.0.0.1" : peer.host;
  if (opts.tls()) return caf::openssl::remote_actor<Handle>(sys, host, peer.port);
  return sys.middleman().remote_actor<Handle>(host, peer.port);
}

// Blocks the calling (host) thread for `d`: only between connection attempts.
void wait_before_retry(std::chrono::milliseconds d);

// The patience of a node joining (or rejoining) its parent (an edge its server, a client host
// its edge) until a deadline: how long connecting and each handshake attempt may take, and
// whether an attempt the parent did not answer is tried again. Only a refusal ends a join
// early; a parent that is gone (a handle CAF's middleman still caches for its address) or late
// is retried until the deadline.
class join_deadline {
 public:
  // From now until now + timeout; each attempt waits at most attempt_cap.
  join_deadline(caf::timespan timeout, caf::timespan attempt_cap);
  // The time left (0 once passed): the patience of connect_with_retry.
  caf::timespan left() const;
  // The time left for a log line: whole seconds from 1 s on ("59s"), else milliseconds.
  std::string left_text() const;
  // The time an attempt may wait: the time left, at least 100 ms, at most attempt_cap.
  caf::timespan attempt() const;
  // True when `err` (of ask_watching) means the parent did not answer, false for a refusal.
  static bool unanswered(const caf::error& err);
  // Time left: waits 100 ms and returns true (try again); past the deadline: false.
  bool retry() const;

 private:
  std::chrono::steady_clock::time_point deadline_;
  caf::timespan attempt_cap_;
};

// One request to a peer node that fails as soon as the peer is gone. CAF never fails a
// request pending to a node whose connection died (its answer simply never comes), and a
// handle cached by the middleman may name a peer that is already gone: a plain blocking
// request then waits for its whole timeout. Here a helper actor monitors `dest` while the
// request is out, so the peer's loss ends the wait at once with sec::request_receiver_down
// (a dead handle gives that down message immediately). Blocks the calling (host) thread;
// returns the answer, the peer's error, request_timeout or request_receiver_down.
template <class Response, class Handle, class Message>
caf::expected<Response> ask_watching(caf::actor_system& sys, const Handle& dest,
                                     caf::timespan timeout, Message msg) {
  struct outcome {
    std::promise<caf::expected<Response>> promise;
    std::atomic<bool> done{false};
    void set(caf::expected<Response> x) {
      if (!done.exchange(true)) promise.set_value(std::move(x));
    }
  };
  auto out = std::make_shared<outcome>();
  auto answer = out->promise.get_future();
  sys.spawn([dest, timeout, msg = std::move(msg), out](caf::event_based_actor* self) mutable {
    self->set_down_handler([self, out](caf::down_msg&) {
      out->set(caf::make_error(caf::sec::request_receiver_down));
      self->quit();
    });
    self->monitor(dest);
    self->request(dest, timeout, std::move(msg))
        .then(
            [self, out](Response& r) {
              out->set(std::move(r));
              self->quit();
            },
            [self, out](caf::error& err) {
              out->set(std::move(err));
              self->quit();
            });
  });
  return answer.get();
}

// Retries connect_to (backoff 100 ms doubling to 1 s) until it succeeds or `patience`
// has passed; the last error otherwise.
template <class Handle>
caf::expected<Handle> connect_with_retry(caf::actor_system& sys, const host_port& peer,
                                         const node_net_options& opts, caf::timespan patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  auto backoff = std::chrono::milliseconds(100);
  for (;;) {
    auto h = connect_to<Handle>(sys, peer, opts);
    if (h || std::chrono::steady_clock::now() + backoff > deadline) return h;
    wait_before_retry(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

// Writes "HH:MM:SS.mmm [PREFIX] LINE" to stderr (one write per line, thread-safe).
class node_logger {
 public:
  explicit node_logger(std::string prefix) : prefix_(std::move(prefix)) {}
  void operator()(const std::string& line) const;
  std::function<void(const std::string&)> fn() const {
    return [self = *this](const std::string& line) { self(line); };
  }

 private:
  std::string prefix_;
};

// Describes a caf::error from connecting or publishing in one line.
std::string describe_net_error(caf::actor_system& sys, const caf::error& err);

}  // namespace fedactor
