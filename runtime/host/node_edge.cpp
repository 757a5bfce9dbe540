// The edge node: scenario from the server, edge actor + client-host directory, registration.

#include "runtime/host/node_edge.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>

#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/edge.hpp"
#include "actors/edge_children.hpp"
#include "actors/edge_node.hpp"
#include "actors/registrar.hpp"
#include "messages/errors.hpp"
#include "runtime/host/node_training.hpp"
#include "runtime/host/peer_address.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/host/tls_role.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

// One hello or join attempt (retried while the join timeout lasts); a live server answers
// either at once, a loaded one within this.
constexpr auto handshake_attempt_timeout = std::chrono::seconds(10);

}  // namespace

int run_edge_node(const edge_node_options& opts) {
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  if (auto err = check(opts.net, node_role::edge)) {
    log("error: " + *err);
    return 2;
  }
  tls_refusal_log_scope tls_log{opts.net.tls() ? opts.log : nullptr};
  // With TLS, a child edge expects its parent's edge certificate, not the server's.
  set_tls_edge_below_parent(opts.below_parent);
  system_config cfg;
  configure(cfg, opts.net);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  // Built on the first welcome, kept across reconnections to the server.
  std::string scenario_yaml;
  std::optional<temp_state_dir> temp;  // outlives the store
  std::shared_ptr<client_state_store> state;
  std::optional<edge_config> ecfg;
  edge_actor e;
  caf::actor trainers;
  std::optional<edge_node_control_actor> node;
  std::string address;                            // where client hosts connect
  listening_port listening_at;                    // the edge's port: its guard or TLS meter
  std::shared_ptr<edge_children> children;        // child edges (aggregation trees)
  std::function<std::vector<uint32_t>()> covers;  // what this node's subtree covers now
  // The peer this node joins: the server, or its parent edge (--parent).
  const std::string peer_name =
      std::string{opts.below_parent ? "the parent edge at " : "the server at "} +
      to_string(opts.server);
  auto shutdown_all = [&] {
    if (node) self->send_exit(*node, caf::exit_reason::user_shutdown);
    if (e) self->send_exit(e, caf::exit_reason::user_shutdown);
    if (trainers) self->send_exit(trainers, caf::exit_reason::user_shutdown);
    if (opts.net.tls()) set_tls_refusal_log({});
  };
  // Sets up everything but the registration from the server's scenario; an exit code on error.
  auto build = [&](const node_welcome& welcome) -> std::optional<int> {
    scenario sc;
    if (auto err = load_scenario_text(welcome.scenario_yaml, "scenario from the server", sc)) {
      log("error: " + err->message);
      return 2;
    }
    if (!opts.below_parent && opts.id >= sc.topology.edges) {
      log("error: --id " + std::to_string(opts.id) + " out of range: the scenario has " +
          std::to_string(sc.topology.edges) + " edges (ids 0.." +
          std::to_string(sc.topology.edges - 1) + ")");
      return 2;
    }
    auto built = build_node_training(sys, sc, {opts.state_file, opts.trainers}, temp, log);
    if (auto* code = std::get_if<int>(&built)) return *code;
    auto& parts = std::get<node_training>(built);
    trainers = parts.trainers;
    state = parts.state;
    const auto data = parts.data;
    auto directory = std::make_shared<client_directory>();
    children = std::make_shared<edge_children>();
    const uint32_t capacity =
        opts.capacity ? opts.capacity : std::max(1u, sc.pool.max_live_clients / sc.topology.edges);
    ecfg.emplace(edge_config{opts.id, capacity, data, trainers});
    ecfg->provider = [directory](uint32_t id) { return directory->find(id); };
    ecfg->batches = [directory](uint32_t id) { return directory->find_batch(id); };
    ecfg->host_aggregation = opts.host_aggregation;
    ecfg->model_window = sc.async.staleness_threshold;
    ecfg->on_batch_refusal = [directory, log = opts.log](const caf::actor_addr& from,
                                                         const std::string& why) {
      if (log) log("refused the batch of peer " + directory->peer_of(from) + ": " + why);
    };
    ecfg->log = opts.log;
    ecfg->state = state;
    ecfg->children = children;
    ecfg->population = sc.population.clients;
    ecfg->attack = sc.attack;
    ecfg->on_refusal = [directory, log = opts.log](const caf::actor_addr& from, uint32_t client,
                                                   const std::string& why) {
      if (log)
        log("refused the update of peer " + directory->peer_of(from) + " for client " +
            std::to_string(client) + ": " + why);
    };
    edge_node_config ncfg;
    ncfg.id = opts.id;
    ncfg.welcome = welcome;
    ncfg.clients = sc.population.clients;
    ncfg.directory = directory;
    ncfg.children = children;
    ncfg.below_parent = opts.below_parent;
    covers = [directory, children] {
      auto out = directory->ranges();
      auto more = children->covers();
      out.insert(out.end(), more.begin(), more.end());
      if (out.size() / 2 > max_cover_ranges) out.resize(2 * max_cover_ranges);
      return out;
    };
    ncfg.log = opts.log;
    // Client hosts join after the edge listens: by then `guarded` says whether a BASP guard
    // relays their connections (plain TCP).
    auto guarded = std::make_shared<std::atomic<bool>>(false);
    ncfg.peer_address = [guarded, sys = &sys](const caf::node_id& n) {
      return peer_address(*sys, n, guarded->load());
    };
    node = sys.spawn(edge_node, std::move(ncfg));
    auto listening = listen_on(
        sys, edge_node_actor{*node}, opts.listen, opts.net,
        max_frame_bytes(parts.spec.num_params(), most_clients_per_round(sc.selection)), log);
    if (!listening) {
      log("error: cannot listen on " + to_string(opts.listen) + ": " +
          describe_net_error(sys, listening.error()));
      return 1;
    }
    listening_at = *listening;
    guarded->store(static_cast<bool>(listening_at.guard));
    const uint16_t port = listening->port;
    address = to_string(host_port{opts.listen.host, port});
    log("listening on " + address + (opts.net.tls() ? " (TLS)" : "") +
        " for client hosts and child edges; " +
        (opts.below_parent
             ? "child edge " + std::to_string(opts.id)
             : "edge " + std::to_string(opts.id) + " of " + std::to_string(sc.topology.edges)) +
        ", capacity " + std::to_string(capacity));
    if (opts.on_listening) opts.on_listening(port);
    if (opts.wait_hosts > 0) {
      log("waiting for " + std::to_string(opts.wait_hosts) +
          (opts.wait_hosts == 1 ? " client host or child edge" : " client hosts or child edges"));
      caf::error failure;
      self->request(*node, caf::infinite, hosts_atom::value, opts.wait_hosts)
          .receive([](uint32_t) {}, [&](caf::error& err) { failure = err; });
      if (failure) {
        log("error: waiting for client hosts: " + describe(failure));
        return 1;
      }
    }
    return std::nullopt;
  };

  log("connecting to " + peer_name + (opts.net.tls() ? " (TLS)" : ""));
  bool edge_used = false;        // the edge actor served a server (replace it for the next)
  bool registered_once = false;  // for the log
  // Connecting (and reconnecting after the server's loss) may take until this deadline.
  join_deadline deadline{opts.join_timeout, handshake_attempt_timeout};
  for (;;) {
    // A parent is an edge node: a peer with another interface (the server, say) is refused
    // by the connection itself (CAF checks the published actor's interface).
    caf::actor peer;
    caf::error conn_err;
    if (opts.below_parent) {
      auto p = connect_with_retry<edge_node_actor>(sys, opts.server, opts.net, deadline.left());
      if (p)
        peer = caf::actor_cast<caf::actor>(*p);
      else
        conn_err = p.error();
    } else {
      auto r = connect_with_retry<registrar_actor>(sys, opts.server, opts.net, deadline.left());
      if (r)
        peer = caf::actor_cast<caf::actor>(*r);
      else
        conn_err = r.error();
    }
    const caf::actor* server = &peer;
    if (!peer) {
      if (opts.below_parent && conn_err == caf::sec::unexpected_actor_messaging_interface) {
        log("error: --parent " + to_string(opts.server) +
            " is not an edge (its node has another interface: a server or another program)");
        shutdown_all();
        return 2;
      }
      log("error: cannot reach " + peer_name + ": " + describe_net_error(sys, conn_err));
      shutdown_all();
      return 1;
    }
    // The hello and the join are attempts (join_deadline), as a client host's to its edge: a
    // server that is gone or late is tried again; only a refusal ends the node (exit 2).
    // A peer lost while it held our hello or join (killed between taking the join and
    // answering it, say) is logged as lost: the join is tried again until the deadline, and the
    // log says why this node is not registered yet.
    auto retry = [&](const caf::error& err, const char* what) {
      if (err == caf::sec::request_receiver_down)
        log("lost: " + peer_name + " before it answered the " + what + "; trying again for up to " +
            deadline.left_text());
      if (deadline.retry()) return true;
      log("error: cannot reach " + peer_name + ": it did not answer (" + describe(err) + ")");
      return false;
    };
    auto welcome = ask_watching<node_welcome>(
        sys, *server, deadline.attempt(),
        node_hello{opts.below_parent ? "child-edge" : "edge", opts.id, node_protocol_version});
    if (!welcome) {
      if (join_deadline::unanswered(welcome.error())) {
        if (retry(welcome.error(), "hello")) continue;
        shutdown_all();
        return 1;
      }
      log("error: " + peer_name + " refused the hello: " + describe(welcome.error()));
      shutdown_all();
      return 2;
    }
    if (!node) {
      scenario_yaml = welcome->scenario_yaml;
      if (auto code = build(*welcome)) {
        shutdown_all();
        return *code;
      }
    } else if (welcome->scenario_yaml != scenario_yaml) {
      log("error: " + peer_name +
          " came back with another scenario; this edge serves the run it "
          "joined");
      shutdown_all();
      return 2;
    }
    // A fresh edge actor for every server: the old one's round or tasks in flight belong to a
    // run state the server no longer has (a resumed server redoes them).
    if (!e) {
      e = spawn_edge(sys, *ecfg);
    } else if (edge_used) {
      self->send_exit(e, caf::exit_reason::user_shutdown);
      e = spawn_edge(sys, *ecfg);
      edge_used = false;
    }
    auto ack =
        opts.below_parent
            ? ask_watching<node_ack>(
                  sys, *server, deadline.attempt(),
                  child_join{opts.id, opts.region.empty() ? address : opts.region, covers(),
                             caf::actor_cast<caf::actor>(e), caf::actor_cast<caf::actor>(*node)})
            : ask_watching<node_ack>(
                  sys, *server, deadline.attempt(),
                  edge_join{opts.id, opts.region, ecfg->capacity, address,
                            caf::actor_cast<caf::actor>(e), caf::actor_cast<caf::actor>(*node)});
    if (!ack && join_deadline::unanswered(ack.error())) {
      if (retry(ack.error(), "join")) continue;
      shutdown_all();
      return 1;
    }
    if (!ack || !ack->accepted) {
      log("error: " + peer_name + " refused edge " + std::to_string(opts.id) + ": " +
          (!ack ? describe(ack.error()) : ack->message));
      shutdown_all();
      return 2;
    }
    log(std::string{registered_once ? "registered again" : "registered"} + " with " + peer_name +
        " as " + (opts.below_parent ? "child edge " : "edge ") + std::to_string(opts.id));
    edge_used = registered_once = true;
    self->send(*node, watch_atom::value, caf::actor_cast<caf::actor>(*server));

    stop_switch::guard armed;
    if (opts.stop)
      armed = opts.stop->arm(
          [n = *node](const std::string& reason) { caf::anon_send(n, stop_atom::value, reason); });
    std::string end;
    self->request(*node, caf::infinite, await_end_atom::value)
        .receive([&](std::string& r) { end = std::move(r); },
                 [&](caf::error& err) { end = "lost: " + describe(err); });
    armed.release();
    // So far, on every end of a watch (a lost server too): the last such line counts.
    if (listening_at.counts_bytes()) log("bytes " + describe(listening_at.bytes(), "client hosts"));
    if (end.rfind("stopped", 0) == 0) {
      log(end + ": leaving; " + (opts.below_parent ? "the parent" : "the server") + " sees edge " +
          std::to_string(opts.id) + " lost");
      shutdown_all();
      return 0;
    }
    if (end.rfind("shutdown", 0) == 0) {
      log(end);
      shutdown_all();
      return 0;
    }
    deadline = join_deadline{opts.join_timeout, handshake_attempt_timeout};
    log(end + "; reconnecting for up to " + format_duration(opts.join_timeout) +
        " (its client hosts stay)");
  }
}

}  // namespace fedactor
