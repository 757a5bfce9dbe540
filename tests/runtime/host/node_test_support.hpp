#pragma once

// Helpers for the in-process node tests (node_net, node_clients, node_edge, node_server,
// tls_log): a thread-safe log sink with bounded waits, a node entry point run on its own
// thread with a bounded join, free and occupied loopback ports, a small scenario, and test
// certificates made with the openssl command (as tests/runtime/cli/node_command_test.cpp).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/host/node_net.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor::testing {

// Collects log lines from any thread; waits for one with a timeout.
class line_log {
 public:
  void add(const std::string& line) {
    {
      std::lock_guard<std::mutex> guard{mu_};
      lines_.push_back(line);
    }
    cv_.notify_all();
  }

  // The first line containing `text`, waiting up to `timeout` for it.
  std::optional<std::string> wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mu_};
    std::optional<std::string> found;
    cv_.wait_for(lock, timeout, [&] {
      for (auto& l : lines_)
        if (l.find(text) != std::string::npos) {
          found = l;
          return true;
        }
      return false;
    });
    return found;
  }

  std::optional<std::string> find(const std::string& text) const {
    std::lock_guard<std::mutex> guard{mu_};
    for (auto& l : lines_)
      if (l.find(text) != std::string::npos) return l;
    return std::nullopt;
  }

  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> guard{mu_};
    return lines_;
  }

  std::string dump() const {
    std::string s;
    for (auto& l : lines()) s += l + "\n";
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// A sink for an options' `log` member that keeps the log alive as long as the node needs it.
inline std::function<void(const std::string&)> sink(const std::shared_ptr<line_log>& log,
                                                    const std::string& prefix = "") {
  return [log, prefix](const std::string& line) { log->add(prefix + line); };
}

// Runs `f` on its own thread. finished(timeout) bounds the wait; a thread still running when
// the object goes away (a failed test) is detached rather than joined, so that a hung node
// cannot hang the test run (everything it uses must be owned by `f`).
template <class T>
class background {
 public:
  template <class F>
  explicit background(F f) {
    auto p = std::make_shared<std::promise<T>>();
    result_ = p->get_future();
    thread_ = std::thread([p, f = std::move(f)]() mutable {
      try {
        p->set_value(f());
      } catch (...) {
        p->set_exception(std::current_exception());
      }
    });
  }
  background(const background&) = delete;
  background& operator=(const background&) = delete;

  bool finished(std::chrono::milliseconds timeout) {
    return result_.wait_for(timeout) == std::future_status::ready;
  }

  // Only after finished() returned true; rethrows what `f` threw.
  T get() { return result_.get(); }

  ~background() {
    if (result_.valid() && result_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      thread_.detach();
    else
      thread_.join();
  }

 private:
  std::future<T> result_;
  std::thread thread_;
};

// A value handed over once from a callback (e.g. on_listening), awaited with a timeout.
template <class T>
class handoff {
 public:
  std::function<void(T)> setter() {
    auto st = state_;
    return [st](T v) {
      {
        std::lock_guard<std::mutex> guard{st->mu};
        if (!st->value) st->value = std::move(v);
      }
      st->cv.notify_all();
    };
  }

  std::optional<T> wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock{state_->mu};
    state_->cv.wait_for(lock, timeout, [&] { return state_->value.has_value(); });
    return state_->value;
  }

 private:
  struct state {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<T> value;
  };
  std::shared_ptr<state> state_ = std::make_shared<state>();
};

// A socket bound to 127.0.0.1 on a port the OS picked; listening if asked. Closed on
// destruction.
class loopback_socket {
 public:
  explicit loopback_socket(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        (listening && ::listen(fd_, 4) != 0))
      return;
    socklen_t len = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) port_ = ntohs(a.sin_port);
  }
  loopback_socket(const loopback_socket&) = delete;
  loopback_socket& operator=(const loopback_socket&) = delete;
  ~loopback_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A loopback port nobody listens on (bound, then closed).
inline uint16_t free_port() {
  loopback_socket s{false};
  return s.port();
}

inline host_port loopback(uint16_t port) {
  return host_port{"127.0.0.1", port};
}

// A small synthetic scenario: 100 clients, 20 per round, one edge, 2 rounds, no evaluation.
inline scenario small_scenario() {
  scenario s;
  s.name = "node-test";
  s.seed = 5;
  s.population.clients = 100;
  s.data.kind = data_kind::teacher;
  s.training.lr = 0.05;
  s.topology.edges = 1;
  s.selection.clients_per_round = 20;
  s.pool.max_live_clients = 20;
  s.pool.trainers = 1;
  s.protocol.rounds = 2;
  s.eval.every = 0;
  return s;
}

// Network options for a test node: one scheduler thread, fast heartbeats.
inline node_net_options test_net() {
  node_net_options n;
  n.threads = 1;
  n.heartbeat = std::chrono::milliseconds(100);
  n.connection_timeout = std::chrono::seconds(5);
  return n;
}

// The same with a connection timeout of 30 s, for tests whose TLS handshakes must finish: on a
// loaded machine (two test processes, each with several actor systems, on two cores) a
// handshake on one scheduler thread could outlast 5 s of silence, and the middleman then closed
// the connection (connection_timeout) before the verdict the test waits for.
inline node_net_options patient(node_net_options n) {
  n.connection_timeout = std::chrono::seconds(30);
  return n;
}

// A directory of test certificates: CA "ca" signs "node" (role server: OU=server), "peer"
// (role edge), "clients" (role clients, a client host's), "roleless" (no OU), "other" (OU=lab,
// no node role) and "expired" (role edge, valid in 2020 only); CA "rogue-ca" signs "rogue"
// (role edge). tls(who, ca) gives the options for a node.
class test_pki {
 public:
  explicit test_pki(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() /
           ("fedactor_host_" + name + "_" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    ok_ = true;
    for (const std::string ca : {"ca", "rogue-ca"})
      ok_ = ok_ && sh("openssl req -x509 " + ec + " -keyout " + ca + ".key -out " + ca +
                      ".pem -days 2 -subj /CN=" + ca);
    struct issued {
      std::string who, ca, ou;
    };
    for (const auto& [who, ca, ou] : std::vector<issued>{{"node", "ca", "server"},
                                                         {"peer", "ca", "edge"},
                                                         {"clients", "ca", "clients"},
                                                         {"roleless", "ca", ""},
                                                         {"other", "ca", "lab"},
                                                         {"rogue", "rogue-ca", "edge"}}) {
      const std::string role = ou.empty() ? "" : "/OU=" + ou;
      ok_ = ok_ && sh("openssl req " + ec + " -keyout " + who + ".key -out " + who + ".csr -subj " +
                      role + "/CN=" + who);
      ok_ = ok_ && sh("openssl x509 -req -in " + who + ".csr -CA " + ca + ".pem -CAkey " + ca +
                      ".key -CAcreateserial -out " + who + ".pem -days 2");
    }
    // "expired": signed by "ca", valid on 1 January 2020 only (openssl ca takes past dates).
    ok_ = ok_ && sh("(printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\nserial=serial.txt"
                    "\\ndefault_md=sha256\\npolicy=p\\nnew_certs_dir=.\\n[p]\\n"
                    "organizationalUnitName=optional\\ncommonName=supplied\\n' > ca.cnf && : > "
                    "index.txt && echo 01 > serial.txt)");
    ok_ = ok_ && sh("openssl req " + ec +
                    " -keyout expired.key -out expired.csr -subj /OU=edge/CN=expired");
    ok_ = ok_ && sh("openssl ca -batch -config ca.cnf -startdate 20200101000000Z -enddate "
                    "20200102000000Z -in expired.csr -out expired.pem -cert ca.pem -keyfile ca.key "
                    "-notext");
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;
  ~test_pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool ok() const { return ok_; }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  node_net_options tls(const std::string& who, const std::string& ca) const {
    auto n = test_net();
    n.tls_cert = file(who + ".pem");
    n.tls_key = file(who + ".key");
    n.tls_ca = file(ca + ".pem");
    return n;
  }

 private:
  bool sh(const std::string& cmd) const {
    return std::system(("cd '" + dir_.string() + "' && " + cmd + " >/dev/null 2>&1").c_str()) == 0;
  }

  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace fedactor::testing
