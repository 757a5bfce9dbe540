// Network options and helpers shared by the server, edge and client-host nodes.

#include "runtime/host/node_net.hpp"

#include <algorithm>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include <caf/openssl/manager.hpp>

#include "messages/errors.hpp"

namespace fedactor {

std::optional<host_port> parse_host_port(const std::string& text, std::string& error) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {  // [v6]:port
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [ADDRESS]:PORT, got '" + text + "'";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      port_text = text;
    } else {
      host = text.substr(0, colon);
      port_text = text.substr(colon + 1);
    }
  }
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos ||
      port_text.size() > 5 || std::stoul(port_text) > 65535) {
    error = "expected HOST:PORT with a port in [0, 65535], got '" + text + "'";
    return std::nullopt;
  }
  return host_port{host, static_cast<uint16_t>(std::stoul(port_text))};
}

std::string to_string(const host_port& x) {
  const std::string host = x.host.empty() ? "*" : x.host;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(x.port);
  return host + ":" + std::to_string(x.port);
}

std::optional<caf::timespan> parse_duration(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  double seconds = 0;
  if (unit.empty() || unit == "s")
    seconds = value;
  else if (unit == "ms")
    seconds = value / 1000;
  else if (unit == "m" || unit == "min")
    seconds = value * 60;
  else
    return std::nullopt;
  if (!(seconds >= 0) || seconds > 1e6) return std::nullopt;
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(seconds));
}

std::string format_duration(caf::timespan d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::string> check(const node_net_options& opts) {
  const int given = !opts.tls_cert.empty() + !opts.tls_key.empty() + !opts.tls_ca.empty();
  if (given != 0 && given != 3)
    return std::string{"TLS needs all of --tls-cert, --tls-key and --tls-ca"};
  for (const auto* f : {&opts.tls_cert, &opts.tls_key, &opts.tls_ca}) {
    if (f->empty()) continue;
    if (!std::ifstream{*f}) return "cannot read " + *f;
  }
  if (opts.heartbeat <= caf::timespan{0}) return std::string{"--heartbeat must be > 0"};
  if (opts.connection_timeout <= opts.heartbeat)
    return std::string{"--connection-timeout must be longer than --heartbeat"};
  return std::nullopt;
}

std::optional<std::string> check(const node_net_options& opts, node_role role) {
  if (auto err = check(opts)) return err;
  if (!opts.tls()) return std::nullopt;
  return check_own_certificate(opts.tls_cert, role, opts.tls_accept_roleless);
}

std::optional<idle_polling> parse_idle_polling(const std::string& text) {
  if (text == "sleep") return idle_polling::sleep;
  if (text == "spin") return idle_polling::spin;
  return std::nullopt;
}

const char* to_string(idle_polling p) {
  return p == idle_polling::sleep ? "sleep" : "spin";
}

void configure(system_config& cfg, const node_net_options& opts) {
  cfg.set("middleman.heartbeat-interval", opts.heartbeat);
  cfg.set("middleman.connection-timeout", opts.connection_timeout);
  if (opts.threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(opts.threads));
  if (opts.polling == idle_polling::sleep) {
    // CAF's phases: aggressive (no pause), moderate (50 us pauses), then the condition
    // variable; keep a short aggressive phase for back-to-back messages, skip the moderate one.
    cfg.set("work-stealing.aggressive-poll-attempts", size_t{10});
    cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  }
  if (opts.tls()) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = opts.tls_cert;
    cfg.openssl_key = opts.tls_key;
    cfg.openssl_cafile = opts.tls_ca;
    set_tls_accept_roleless(opts.tls_accept_roleless);
  }
}

const char* bind_address(const host_port& listen, const node_net_options& opts) {
  if (!listen.host.empty()) return listen.host.c_str();
  return opts.tls() ? nullptr : "127.0.0.1";
}

uint64_t max_frame_bytes(size_t num_params, uint64_t clients_per_round) {
  return 2 * 16 * static_cast<uint64_t>(num_params) + 48 * clients_per_round + (16u << 20);
}

void wait_before_retry(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);
}

join_deadline::join_deadline(caf::timespan timeout, caf::timespan attempt_cap)
    : deadline_(std::chrono::steady_clock::now() + timeout), attempt_cap_(attempt_cap) {}

caf::timespan join_deadline::left() const {
  return std::max(caf::timespan{0}, std::chrono::duration_cast<caf::timespan>(
                                        deadline_ - std::chrono::steady_clock::now()));
}

caf::timespan join_deadline::attempt() const {
  const caf::timespan floor = std::chrono::milliseconds(100);
  return std::clamp(left(), floor, std::max(floor, attempt_cap_));
}

std::string join_deadline::left_text() const {
  const auto l = left();
  if (l >= std::chrono::seconds(1))
    return format_duration(std::chrono::duration_cast<std::chrono::seconds>(l));
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(l));
}

bool join_deadline::unanswered(const caf::error& err) {
  return err == caf::sec::request_receiver_down || err == caf::sec::request_timeout;
}

bool join_deadline::retry() const {
  if (std::chrono::steady_clock::now() >= deadline_) return false;
  wait_before_retry(std::chrono::milliseconds(100));
  return true;
}

void node_logger::operator()(const std::string& line) const {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms));
  const std::string out = std::string{stamp} + " [" + prefix_ + "] " + line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

std::string describe_net_error(caf::actor_system& sys, const caf::error& err) {
  if (err.category() == errc_atom::value) return describe(err);
  return sys.render(err);
}

}  // namespace fedactor
