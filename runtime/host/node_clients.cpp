// The client-host node: connect, take the scenario, host clients, rejoin after edge loss.

#include "runtime/host/node_clients.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/client_host.hpp"
#include "actors/edge_node.hpp"
#include "messages/errors.hpp"
#include "runtime/host/node_training.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/protocol/host_aggregation.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

// One hello or join attempt; a live edge answers either at once.
constexpr auto handshake_attempt_timeout = std::chrono::seconds(5);
// Building the hosted clients' data before joining (at most --max-live clients).
constexpr auto prepare_timeout = std::chrono::minutes(10);

// Builds the hosted clients' data before the host joins (sync runs): the federation waits for
// its hosts anyway, and the first round then costs what the next ones do. A failure only
// leaves the clients to be built on first use.
template <class Log>
void prepare_clients(caf::scoped_actor& self, const client_host_control_actor& host,
                     const std::string& name, Log& log) {
  const auto t0 = std::chrono::steady_clock::now();
  self->request(host, prepare_timeout, prepare_atom::value)
      .receive(
          [&](uint32_t n) {
            char took[32];
            std::snprintf(
                took, sizeof took, "%.2f",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            log("prepared " + std::to_string(n) + " clients (" + name + ") in " + took + " s");
          },
          [&](caf::error& err) {
            log("clients " + name + " are built on first use: preparing them failed (" +
                describe(err) + ")");
          });
}

}  // namespace

bool parse_id_range(const std::string& text, uint32_t& first, uint32_t& last) {
  auto number = [](const std::string& t, uint32_t& out) {
    if (t.empty() || t.size() > 10 || t.find_first_not_of("0123456789") != std::string::npos)
      return false;
    const auto v = std::stoull(t);
    if (v > 0xffffffffull) return false;
    out = static_cast<uint32_t>(v);
    return true;
  };
  const auto dash = text.find('-');
  if (dash == std::string::npos) {
    if (!number(text, first)) return false;
    last = first;
    return true;
  }
  return number(text.substr(0, dash), first) && number(text.substr(dash + 1), last) &&
         first <= last;
}

int run_clients_node(const clients_node_options& opts) {
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  if (auto err = check(opts.net, node_role::clients)) {
    log("error: " + *err);
    return 2;
  }
  tls_refusal_log_scope tls_log{opts.net.tls() ? opts.log : nullptr};
  system_config cfg;
  configure(cfg, opts.net);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  const std::string name = std::to_string(opts.first) + "-" + std::to_string(opts.last);

  // Built on the first successful hello, kept across reconnections.
  std::optional<temp_state_dir> temp;  // outlives the store
  std::shared_ptr<client_state_store> state;
  std::optional<client_host_control_actor> host;
  caf::actor trainers;
  auto shutdown_all = [&] {
    if (host) self->send_exit(*host, caf::exit_reason::user_shutdown);
    if (trainers) self->send_exit(trainers, caf::exit_reason::user_shutdown);
    if (opts.net.tls()) set_tls_refusal_log({});
  };

  bool joined_before = false;
  // Connecting (and reconnecting after a loss) may take until this deadline.
  join_deadline deadline{opts.join_timeout, handshake_attempt_timeout};
  for (;;) {
    auto edge = connect_with_retry<edge_node_actor>(sys, opts.edge, opts.net, deadline.left());
    if (!edge) {
      log("error: cannot reach the edge at " + to_string(opts.edge) + ": " +
          describe_net_error(sys, edge.error()));
      shutdown_all();
      return 1;
    }
    // The hello and the join are attempts (join_deadline): an edge that is gone (or dies
    // while it answers) or late is tried again; only a refusal ends the host (exit 2).
    auto retry_or_give_up = [&](const caf::error& err, const char* what) {
      if (err == caf::sec::request_receiver_down)
        log("lost: the edge at " + to_string(opts.edge) + " before it answered the " + what +
            "; trying again for up to " + deadline.left_text());
      if (deadline.retry()) return true;
      log("error: cannot reach the edge at " + to_string(opts.edge) + ": it did not answer (" +
          describe(err) + ")");
      return false;
    };
    auto welcome = ask_watching<node_welcome>(
        sys, *edge, deadline.attempt(), node_hello{"clients", opts.first, node_protocol_version});
    if (!welcome) {
      if (join_deadline::unanswered(welcome.error())) {
        if (retry_or_give_up(welcome.error(), "hello")) continue;
        shutdown_all();
        return 1;
      }
      log("error: the edge refused the hello: " + describe(welcome.error()));
      shutdown_all();
      return 2;
    }
    if (!host) {
      scenario sc;
      if (auto err = load_scenario_text(welcome->scenario_yaml, "scenario from the edge", sc)) {
        log("error: " + err->message);
        return 2;
      }
      if (opts.last >= sc.population.clients) {
        log("error: --ids " + name + " outside the population 0-" +
            std::to_string(sc.population.clients - 1));
        return 2;
      }
      auto built = build_node_training(sys, sc, {opts.state_file, opts.trainers}, temp, log);
      if (auto* code = std::get_if<int>(&built)) return *code;
      auto& parts = std::get<node_training>(built);
      trainers = parts.trainers;
      state = parts.state;
      client_host_config hcfg;
      hcfg.first = opts.first;
      hcfg.last = opts.last;
      const uint32_t max_live = opts.max_live ? opts.max_live : sc.pool.max_live_clients;
      hcfg.max_live = max_live;
      hcfg.data = parts.data;
      hcfg.trainers = trainers;
      hcfg.state = state;
      hcfg.log = opts.log;
      // Async tasks may start from any version the server still accepts an update for.
      hcfg.model_window =
          sc.protocol.mode == protocol_mode::async ? sc.async.staleness_threshold : 0;
      host = sys.spawn(client_host, std::move(hcfg));
      // Sync batches: build the clients' data now, while the federation assembles.
      const uint64_t hosted = uint64_t{opts.last} - opts.first + 1;
      if (host_batches_expected(sc) && hosted > max_live)
        log("clients " + name + " are built on first use (" + std::to_string(hosted) +
            " clients, more than --max-live " + std::to_string(max_live) + ")");
      else if (host_batches_expected(sc))
        prepare_clients(self, *host, name, log);
    }
    // The edge takes a repeated join of the same host as the same registration, so a join
    // whose answer was lost can be sent again.
    auto ack = ask_watching<node_ack>(
        sys, *edge, deadline.attempt(),
        host_join{opts.first, opts.last, name, caf::actor_cast<caf::actor>(*host)});
    if (!ack && join_deadline::unanswered(ack.error())) {
      if (retry_or_give_up(ack.error(), "join")) continue;
      shutdown_all();
      return 1;
    }
    if (!ack || !ack->accepted) {
      log("error: the edge refused clients " + name + ": " +
          (!ack ? describe(ack.error()) : ack->message));
      shutdown_all();
      return 2;
    }
    log(std::string{joined_before ? "rejoined" : "joined"} + " the edge at " +
        to_string(opts.edge) + ": hosting clients " + name);
    joined_before = true;
    self->send(*host, watch_atom::value, caf::actor_cast<caf::actor>(*edge));
    stop_switch::guard armed;
    if (opts.stop)
      armed = opts.stop->arm(
          [h = *host](const std::string& reason) { caf::anon_send(h, stop_atom::value, reason); });
    std::string end;
    self->request(*host, caf::infinite, await_end_atom::value)
        .receive([&](std::string& r) { end = std::move(r); },
                 [&](caf::error& err) { end = "lost: " + describe(err); });
    armed.release();
    if (end.rfind("stopped", 0) == 0) {
      log(end + ": leaving; the edge fails this host's tasks in flight at once");
      shutdown_all();
      return 0;
    }
    if (end.rfind("shutdown", 0) == 0) {
      log(end);
      shutdown_all();
      return 0;
    }
    deadline = join_deadline{opts.join_timeout, handshake_attempt_timeout};
    log("the edge is " + end + "; reconnecting for up to " + format_duration(opts.join_timeout));
  }
}

}  // namespace fedactor
