// The server node: registrar, roster, server actor over remote edges, shutdown.

#include "runtime/host/node_server.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/registrar.hpp"
#include "messages/errors.hpp"
#include "runtime/host/basp_guard.hpp"
#include "runtime/host/peer_address.hpp"
#include "runtime/host/server_graph.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/population/region_router.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/load.hpp"
#include "runtime/timing/device_profile.hpp"

namespace fedactor {

server_node_result run_server_node(const server_node_options& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const scenario& sc = opts.sc;
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  if (auto err = check(opts.net, node_role::server)) throw std::runtime_error(*err);
  // Embedders may hand over a scenario that never went through the loader.
  if (auto err = validate(sc)) throw std::runtime_error(err->message);
  tls_refusal_log_scope tls_log{opts.net.tls() ? opts.log : nullptr};

  system_config cfg;
  configure(cfg, opts.net);
  caf::actor_system sys{cfg};

  server_node_result out;
  out.spec = make_model_spec(sc);
  auto data = make_data_source(sc);
  auto registry = std::make_shared<client_registry>(
      sc.population.clients, sc.seed, sc.population.regions,
      [&data](client_id id) { return data->num_samples(id); },
      device_meta_fn(sc.devices, sc.seed, sc.population.regions));

  const uint32_t edges = sc.topology.edges;
  registrar_config rcfg{to_yaml(sc), edges, opts.log, {}};
  if (sc.topology.routing == routing_kind::region || !sc.topology.edge_regions.empty())
    rcfg.edge_regions = edge_region_list(sc.topology.edge_regions, edges, sc.population.regions);
  auto reg = sys.spawn(registrar, std::move(rcfg));
  auto listening =
      listen_on(sys, registrar_actor{reg}, opts.listen, opts.net,
                max_frame_bytes(out.spec.num_params(), most_clients_per_round(sc.selection)), log);
  if (!listening) {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen on " + to_string(opts.listen) + ": " +
                             describe_net_error(sys, listening.error()));
  }
  const uint16_t port = listening->port;
  log("listening on " + to_string(host_port{opts.listen.host, port}) +
      (opts.net.tls() ? " (TLS)" : "") + ", waiting for " + std::to_string(edges) + " edge" +
      (edges == 1 ? "" : "s") + "; heartbeat " + format_duration(opts.net.heartbeat) +
      ", connection timeout " + format_duration(opts.net.connection_timeout));
  if (opts.on_listening) opts.on_listening(port);
  if (!opts.checkpoint_dir.empty())
    if (auto why = server_checkpoint_limit(sc, false)) log("warning: " + *why);
  if (opts.resume)
    log(std::string{"resuming after "} +
        (sc.protocol.mode == protocol_mode::async ? "aggregation " : "round ") +
        std::to_string(opts.resume->round) + " once the edges have joined");

  caf::scoped_actor self{sys};
  std::vector<edge_join> roster;
  caf::error failure;
  const auto wait = opts.join_timeout > caf::timespan{0} ? caf::duration{opts.join_timeout}
                                                         : caf::duration{caf::infinite};
  stop_switch::guard armed;
  if (opts.stop)
    armed = opts.stop->arm(
        [reg](const std::string& reason) { caf::anon_send(reg, stop_atom::value, reason); });
  self->request(reg, wait, roster_atom::value)
      .receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
               [&](caf::error& err) { failure = err; });
  armed.release();
  const bool stopped_early = failure && opts.stop && opts.stop->requested();
  if (failure && !stopped_early) {
    self->send_exit(reg, caf::exit_reason::user_shutdown);
    throw std::runtime_error("not every edge joined within " + format_duration(opts.join_timeout) +
                             ": " + describe(failure));
  }
  std::string outcome = "run complete";
  std::optional<std::string> failed;
  if (stopped_early) {
    const auto reason = opts.stop->reason();
    log("stopped (" + reason + ") before every edge joined: no round was run");
    out.result = unstarted_run(sc, initial_params(out.spec, sc.seed), t0, reason);
    out.ran = false;
  } else {
    log((edges == 1 ? std::string{"the edge"} : "all " + std::to_string(edges) + " edges") +
        " joined; running " + sc.name + " (" + to_string(sc.protocol.mode) + ")");

    server_graph_config gcfg;
    gcfg.sc = sc;
    gcfg.spec = out.spec;
    gcfg.data = data;
    gcfg.registry = registry;
    gcfg.initial_model = initial_params(out.spec, sc.seed);
    uint32_t capacity = std::max(1u, sc.pool.max_live_clients / edges);
    for (auto& j : roster) {
      gcfg.edges.push_back(caf::actor_cast<edge_actor>(j.edge));
      if (j.capacity > 0) capacity = std::min(capacity, j.capacity);
    }
    gcfg.edge_capacity = capacity;
    gcfg.model_references = true;  // every edge is in another process
    gcfg.on_round = opts.on_round;
    // Bytes to and from the edges' nodes per round / step, from the guard's counters (plain
    // TCP) or the TLS meter's: the registrations before the first round are not counted.
    auto net_seen = std::make_shared<byte_totals>();
    auto net_run = std::make_shared<byte_totals>();
    if (listening->counts_bytes()) {
      *net_seen = listening->bytes();
      *net_run = *net_seen;
      if (opts.on_round)
        gcfg.on_round = [on = opts.on_round, counted_at = *listening,
                         net_seen](const round_record& r) {
          const auto now = counted_at.bytes();
          round_record counted = r;
          counted.net_bytes_counted = true;
          counted.net_bytes_down = now.to_peers - net_seen->to_peers;
          counted.net_bytes_up = now.from_peers - net_seen->from_peers;
          const auto grown = now - *net_seen;
          counted.net_bytes_down_by_message = grown.to_peers_by_message;
          counted.net_bytes_up_by_message = grown.from_peers_by_message;
          *net_seen = now;
          on(counted);
        };
    }
    gcfg.on_event = opts.log;
    // Where each edge's node connects from, for the server's refusal lines: the middleman's
    // connection to it, or (plain TCP) the peer the guard relays that connection for. An edge
    // that joins later (a restarted edge process: a new node id) is looked up the first time
    // a line names it.
    struct address_book {
      std::mutex mu;
      std::map<caf::node_id, std::string> known;
    };
    auto addresses = std::make_shared<address_book>();
    const bool guarded = static_cast<bool>(listening->guard);
    for (auto& j : roster) {
      const auto node = j.edge.node();
      if (auto where = peer_address(sys, node, guarded, std::chrono::seconds(5)); !where.empty())
        addresses->known[node] = where;
    }
    gcfg.peer_address = [addresses, guarded, sys = &sys](const caf::node_id& n) {
      std::lock_guard<std::mutex> lock{addresses->mu};
      auto it = addresses->known.find(n);
      if (it != addresses->known.end()) return it->second;
      auto where = peer_address(*sys, n, guarded);
      if (!where.empty()) addresses->known[n] = where;
      return where;
    };
    gcfg.checkpoint_dir = opts.checkpoint_dir;
    gcfg.resume = opts.resume;
    try {
      out.result = run_server_graph(sys, std::move(gcfg), t0, [&](const server_actor& srv) {
        self->send(reg, serving_atom::value, caf::actor_cast<caf::actor>(srv));
        if (opts.stop) {
          armed.release();  // the previous server's, after a scripted crash
          armed = opts.stop->arm(
              [srv](const std::string& reason) { caf::anon_send(srv, stop_atom::value, reason); });
        }
      });
    } catch (const std::exception& e) {
      failed = e.what();
    }
    armed.release();
    if (listening->counts_bytes()) {
      const auto now = listening->bytes();
      out.bytes_counted = true;
      out.result.summary.net_bytes_counted = true;
      out.result.summary.net_bytes_down = now.to_peers - net_run->to_peers;
      out.result.summary.net_bytes_up = now.from_peers - net_run->from_peers;
      const auto grown = now - *net_run;
      out.result.summary.net_bytes_down_by_message = grown.to_peers_by_message;
      out.result.summary.net_bytes_up_by_message = grown.from_peers_by_message;
      out.bytes = now;
    }
  }
  if (out.result.summary.interrupted)
    outcome = "run stopped (" + out.result.summary.stopped_by + ")";
  if (failed) outcome = *failed;
  uint32_t acked = 0;
  self->request(reg, std::chrono::seconds(30), close_atom::value, outcome)
      .receive([&](uint32_t n) { acked = n; }, [&](caf::error&) {});
  log("told " + std::to_string(acked) + " edge node" + (acked == 1 ? "" : "s") +
      " that the run is over");
  self->send_exit(reg, caf::exit_reason::user_shutdown);
  if (opts.net.tls()) set_tls_refusal_log({});
  if (failed) throw std::runtime_error(outcome);
  if (listening->guard) {
    out.guarded = true;
    out.frames_refused = listening->guard->refused();
    out.frames_truncated = listening->guard->truncated();
  }
  return out;
}
}  // namespace fedactor
