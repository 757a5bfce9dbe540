// node_net: addresses, durations, network options and their checks, the actor-system set-up
// they imply, bind addresses, connecting (and giving up) on loopback, error descriptions and
// the node logger's line format.

#include "runtime/host/node_net.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "tests/runtime/host/node_test_support.hpp"
#include "tests/support/test_paths.hpp"

using namespace fedactor;
using namespace fedactor::testing;
using namespace std::chrono_literals;

namespace {

std::optional<host_port> parse(const std::string& text) {
  std::string err;
  return parse_host_port(text, err);
}

std::string parse_error(const std::string& text) {
  std::string err;
  CHECK_FALSE(parse_host_port(text, err));
  return err;
}

// Everything written to stderr while `f` runs.
template <class F>
std::string capture_stderr(F f) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  ::dup2(fds[1], 2);
  f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  return out;
}

caf::actor spawn_idle(caf::actor_system& sys) {
  return sys.spawn(
      [](caf::event_based_actor*) -> caf::behavior { return {[](int x) { return x; }}; });
}

}  // namespace

TEST_CASE("host:port parsing accepts HOST:PORT, :PORT, PORT and bracketed IPv6", "[host]") {
  auto a = parse("10.0.0.1:7100");
  REQUIRE(a);
  CHECK(a->host == "10.0.0.1");
  CHECK(a->port == 7100);
  auto b = parse(":7200");
  REQUIRE(b);
  CHECK(b->host.empty());
  CHECK(b->port == 7200);
  auto c = parse("7300");
  REQUIRE(c);
  CHECK(c->host.empty());
  CHECK(c->port == 7300);
  auto d = parse("localhost:0");
  REQUIRE(d);
  CHECK(d->host == "localhost");
  CHECK(d->port == 0);
  auto e = parse("127.0.0.1:65535");
  REQUIRE(e);
  CHECK(e->port == 65535);
  auto v6 = parse("[::1]:7100");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 7100);
  auto v6b = parse("[fe80::1%eth0]:1");
  REQUIRE(v6b);
  CHECK(v6b->host == "fe80::1%eth0");
}

TEST_CASE("host:port parsing rejects a missing or out-of-range port with one line", "[host]") {
  CHECK(parse_error("127.0.0.1") ==
        "expected HOST:PORT with a port in [0, 65535], got '127.0.0.1'");
  CHECK(parse_error("127.0.0.1:") ==
        "expected HOST:PORT with a port in [0, 65535], got '127.0.0.1:'");
  CHECK(parse_error("localhost") != "");
  CHECK(parse_error("") != "");
  CHECK(parse_error("127.0.0.1:65536").find("[0, 65535]") != std::string::npos);
  CHECK(parse_error("127.0.0.1:99999999999999999999").find("[0, 65535]") != std::string::npos);
  CHECK(parse_error("127.0.0.1:-1") != "");
  CHECK(parse_error("127.0.0.1:+1") != "");
  CHECK(parse_error("127.0.0.1:71 00") != "");
  CHECK(parse_error("[::1]") == "expected [ADDRESS]:PORT, got '[::1]'");
  CHECK(parse_error("[::1]7100") == "expected [ADDRESS]:PORT, got '[::1]7100'");
  CHECK(parse_error("[::1:7100") != "");
  CHECK(parse_error("[::1]:") != "");
  CHECK(parse_error("[::1]:70000") != "");
}

TEST_CASE("host:port text: empty host as *, IPv6 in brackets, round trip", "[host]") {
  CHECK(to_string(host_port{"127.0.0.1", 7100}) == "127.0.0.1:7100");
  CHECK(to_string(host_port{"", 7100}) == "*:7100");
  CHECK(to_string(host_port{"::1", 7100}) == "[::1]:7100");
  for (const std::string text : {"127.0.0.1:7100", "[::1]:9", "example.org:0"}) {
    auto p = parse(text);
    REQUIRE(p);
    CHECK(to_string(*p) == text);
  }
}

TEST_CASE("durations: ms, s, m, plain seconds, malformed or negative rejected", "[host]") {
  CHECK(parse_duration("250ms") == caf::timespan{250ms});
  CHECK(parse_duration("5s") == caf::timespan{5s});
  CHECK(parse_duration("1.5s") == caf::timespan{1500ms});
  CHECK(parse_duration("2m") == caf::timespan{120s});
  CHECK(parse_duration("2min") == caf::timespan{120s});
  CHECK(parse_duration("3") == caf::timespan{3s});
  CHECK(parse_duration("0s") == caf::timespan{0});
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("5h"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("nan"));
  CHECK_FALSE(parse_duration("inf"));
  CHECK_FALSE(parse_duration("1e400"));
  CHECK_FALSE(parse_duration("2000000"));  // more than 1e6 s
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(5s) == "5s");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(caf::timespan{0}) == "0s");
  CHECK(format_duration(2min) == "120s");
}

TEST_CASE("check: incomplete TLS options, unreadable files, heartbeat and timeout", "[host]") {
  node_net_options ok;
  CHECK_FALSE(check(ok));
  const std::string incomplete = "TLS needs all of --tls-cert, --tls-key and --tls-ca";
  {
    node_net_options o;
    o.tls_cert = "cert.pem";
    REQUIRE(check(o));
    CHECK(*check(o) == incomplete);
  }
  {
    node_net_options o;
    o.tls_key = "key.pem";
    o.tls_ca = "ca.pem";
    REQUIRE(check(o));
    CHECK(*check(o) == incomplete);
  }
  {
    // All three, one missing: named.
    const std::string readable = FEDACTOR_SOURCE_DIR + "/README.md";
    node_net_options o;
    o.tls_cert = readable;
    o.tls_key = "/nonexistent/fedactor/key.pem";
    o.tls_ca = readable;
    REQUIRE(check(o));
    CHECK(*check(o) == "cannot read /nonexistent/fedactor/key.pem");
    o.tls_key = readable;
    CHECK_FALSE(check(o));  // readable is all check asks of the files
    CHECK(o.tls());
  }
  {
    node_net_options o;
    o.heartbeat = caf::timespan{0};
    REQUIRE(check(o));
    CHECK(*check(o) == "--heartbeat must be > 0");
  }
  {
    node_net_options o;
    o.heartbeat = 1s;
    o.connection_timeout = 1s;
    REQUIRE(check(o));
    CHECK(*check(o) == "--connection-timeout must be longer than --heartbeat");
    o.connection_timeout = 1001ms;
    CHECK_FALSE(check(o));
  }
}

TEST_CASE("configure sets heartbeat, connection timeout, threads and the TLS files", "[host]") {
  node_net_options o;
  o.heartbeat = 200ms;
  o.connection_timeout = 3s;
  o.threads = 3;
  system_config cfg;
  configure(cfg, o);
  CHECK(caf::get_or(cfg, "middleman.heartbeat-interval", caf::timespan{0}) == caf::timespan{200ms});
  CHECK(caf::get_or(cfg, "middleman.connection-timeout", caf::timespan{0}) == caf::timespan{3s});
  CHECK(caf::get_or(cfg, "scheduler.max-threads", size_t{0}) == 3);
  CHECK(cfg.openssl_certificate.empty());

  o.threads = 0;
  o.tls_cert = "c.pem";
  o.tls_key = "k.pem";
  o.tls_ca = "ca.pem";
  system_config tls_cfg;
  const auto threads_before = caf::get_or(tls_cfg, "scheduler.max-threads", size_t{0});
  configure(tls_cfg, o);
  CHECK(caf::get_or(tls_cfg, "scheduler.max-threads", size_t{0}) == threads_before);
  CHECK(tls_cfg.openssl_certificate == "c.pem");
  CHECK(tls_cfg.openssl_key == "k.pem");
  CHECK(tls_cfg.openssl_cafile == "ca.pem");
}

TEST_CASE("idle polling: sleep skips CAF's moderate polling phase and spin keeps CAF's phases",
          "[host]") {
  CHECK(parse_idle_polling("sleep") == idle_polling::sleep);
  CHECK(parse_idle_polling("spin") == idle_polling::spin);
  CHECK_FALSE(parse_idle_polling("Sleep"));
  CHECK_FALSE(parse_idle_polling(""));
  CHECK(std::string{to_string(idle_polling::sleep)} == "sleep");
  CHECK(std::string{to_string(idle_polling::spin)} == "spin");

  node_net_options o;
  CHECK(o.polling == idle_polling::sleep);
  system_config sleeping;
  configure(sleeping, o);
  CHECK(caf::get_or(sleeping, "work-stealing.aggressive-poll-attempts", size_t{999}) == 10);
  CHECK(caf::get_or(sleeping, "work-stealing.moderate-poll-attempts", size_t{999}) == 0);

  o.polling = idle_polling::spin;
  system_config spinning;
  configure(spinning, o);
  CHECK(caf::get_or(spinning, "work-stealing.aggressive-poll-attempts", size_t{999}) == 999);
  CHECK(caf::get_or(spinning, "work-stealing.moderate-poll-attempts", size_t{999}) == 999);

  // CAF takes the settings: a system configured so starts and runs messages.
  node_net_options one;
  one.threads = 1;
  system_config cfg;
  configure(cfg, one);
  caf::actor_system sys{cfg};
  auto echo = sys.spawn([]() -> caf::behavior { return {[](int x) { return x + 1; }}; });
  caf::scoped_actor self{sys};
  for (int i = 0; i < 3; ++i) {
    self->request(echo, caf::infinite, i)
        .receive([&](int y) { CHECK(y == i + 1); }, [&](caf::error& e) { FAIL(sys.render(e)); });
  }
}

TEST_CASE("a configured system has the middleman, and the openssl manager only with TLS",
          "[host]") {
  system_config cfg;
  configure(cfg, test_net());
  caf::actor_system sys{cfg};
  CHECK(sys.has_middleman());
  CHECK_FALSE(sys.has_openssl_manager());
}

TEST_CASE("bind_address: the named host, else loopback without TLS and every interface with it",
          "[host]") {
  node_net_options plain;
  node_net_options tls;
  tls.tls_cert = tls.tls_key = tls.tls_ca = "x";
  host_port named{"10.0.0.2", 7200};
  host_port bare{"", 7200};
  CHECK(std::string{bind_address(named, plain)} == "10.0.0.2");
  CHECK(std::string{bind_address(named, tls)} == "10.0.0.2");
  CHECK(std::string{bind_address(bare, plain)} == "127.0.0.1");
  CHECK(bind_address(bare, tls) == nullptr);
}

TEST_CASE("a refused connection is described in one line", "[host]") {
  system_config cfg;
  configure(cfg, test_net());
  caf::actor_system sys{cfg};
  const uint16_t port = free_port();
  REQUIRE(port != 0);
  auto r = connect_to<caf::actor>(sys, loopback(port), test_net());
  REQUIRE_FALSE(r);
  const std::string text = describe_net_error(sys, r.error());
  INFO(text);
  CHECK_FALSE(text.empty());
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find("cannot_connect_to_node") != std::string::npos);
  // fedactor's own errors are described by describe().
  auto ours = make_error(errc::bad_request, "edge id 7 out of range");
  CHECK(describe_net_error(sys, ours) == "bad_request: edge id 7 out of range");
}

TEST_CASE("connect_with_retry gives up after its patience with the last error", "[host]") {
  system_config cfg;
  configure(cfg, test_net());
  caf::actor_system sys{cfg};
  const uint16_t port = free_port();
  REQUIRE(port != 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = connect_with_retry<caf::actor>(sys, loopback(port), test_net(), 300ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(describe_net_error(sys, r.error()).find("cannot_connect_to_node") != std::string::npos);
  CHECK(took < 10s);
  // No patience: one attempt.
  auto once = connect_with_retry<caf::actor>(sys, loopback(port), test_net(), caf::timespan{0});
  CHECK_FALSE(once);
}

TEST_CASE("connect_with_retry reaches a peer that starts listening while it retries", "[host]") {
  system_config peer_cfg;
  configure(peer_cfg, test_net());
  caf::actor_system peer{peer_cfg};
  auto echo = spawn_idle(peer);
  const uint16_t port = free_port();
  REQUIRE(port != 0);
  background<bool> connecting{[port] {
    system_config cfg;
    configure(cfg, test_net());
    caf::actor_system sys{cfg};
    auto r = connect_with_retry<caf::actor>(sys, loopback(port), test_net(), 20s);
    return static_cast<bool>(r);
  }};
  auto bound = publish_on(peer, echo, loopback(port), test_net());
  REQUIRE(bound);
  CHECK(*bound == port);
  REQUIRE(connecting.finished(30s));
  CHECK(connecting.get());
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}

TEST_CASE("publish_on port 0 binds a port connect_to reaches", "[host]") {
  system_config a_cfg, b_cfg;
  configure(a_cfg, test_net());
  configure(b_cfg, test_net());
  caf::actor_system a{a_cfg};
  caf::actor_system b{b_cfg};
  auto echo = spawn_idle(a);
  auto port = publish_on(a, echo, host_port{"", 0}, test_net());  // bare: 127.0.0.1
  REQUIRE(port);
  CHECK(*port != 0);
  auto h = connect_to<caf::actor>(b, host_port{"", *port}, test_net());  // bare: 127.0.0.1
  REQUIRE(h);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}

TEST_CASE("node_logger writes one line per call to stderr: time to the millisecond, prefix, text",
          "[host]") {
  node_logger log{"edge 3"};
  const std::string out = capture_stderr([&] {
    log("listening on 127.0.0.1:7200");
    log.fn()("second line");
  });
  const std::regex line{R"(^\d\d:\d\d:\d\d\.\d\d\d \[edge 3\] listening on 127\.0\.0\.1:7200
\d\d:\d\d:\d\d\.\d\d\d \[edge 3\] second line
$)"};
  INFO(out);
  CHECK(std::regex_match(out, line));
}

TEST_CASE("join_deadline: attempts bounded by the time left and the cap, retries until it passes",
          "[host][net]") {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const join_deadline passed{caf::timespan{0}, seconds(5)};
  CHECK(passed.left() == caf::timespan{0});
  CHECK(passed.attempt() == caf::timespan{milliseconds(100)});  // the floor
  CHECK_FALSE(passed.retry());                                  // at once, no pause
  const join_deadline long_one{seconds(3600), seconds(5)};
  CHECK(long_one.left() > caf::timespan{seconds(3590)});
  CHECK(long_one.attempt() == caf::timespan{seconds(5)});  // the cap
  const join_deadline short_one{seconds(2), seconds(5)};
  CHECK(short_one.attempt() <= caf::timespan{seconds(2)});  // the time left
  CHECK(short_one.attempt() > caf::timespan{milliseconds(100)});
  CHECK(short_one.retry());  // time left: try again (after a 100 ms pause)
  CHECK(join_deadline::unanswered(caf::sec::request_timeout));
  CHECK(join_deadline::unanswered(caf::sec::request_receiver_down));
  CHECK_FALSE(join_deadline::unanswered(caf::make_error(caf::sec::unexpected_message)));
}

TEST_CASE("join_deadline: the time left for a log line is whole seconds from 1 s and ms below",
          "[host][net]") {
  using std::chrono::seconds;
  CHECK(join_deadline{caf::timespan{0}, seconds(5)}.left_text() == "0s");
  const auto hour = join_deadline{seconds(3600), seconds(5)}.left_text();  // rounded down
  CHECK((hour == "3599s" || hour == "3600s"));
  const auto sub = join_deadline{std::chrono::milliseconds(900), seconds(5)}.left_text();
  INFO(sub);
  REQUIRE(sub.size() > 2);
  CHECK(sub.substr(sub.size() - 2) == "ms");
  CHECK(std::stoi(sub) <= 900);
  CHECK(std::stoi(sub) > 0);
}
