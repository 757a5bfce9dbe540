// The edge node: scenario from the server, edge actor + client-host directory, registration.

#include "runtime/host/node_edge.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/edge.hpp"
#include "actors/edge_node.hpp"
#include "actors/registrar.hpp"
#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/host/client_state_files.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

constexpr auto control_timeout = std::chrono::seconds(30);

}  // namespace

int run_edge_node(const edge_node_options& opts) {
  auto log = [&](const std::string& line) {
    if (opts.log) opts.log(line);
  };
  if (auto err = check(opts.net)) {
    log("error: " + *err);
    return 2;
  }
  tls_refusal_log_scope tls_log{opts.net.tls() ? opts.log : nullptr};
  system_config cfg;
  configure(cfg, opts.net);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  log("connecting to the server at " + to_string(opts.server) + (opts.net.tls() ? " (TLS)" : ""));
  auto server = connect_with_retry<registrar_actor>(sys, opts.server, opts.net, opts.join_timeout);
  if (!server) {
    log("error: cannot reach the server at " + to_string(opts.server) + ": " +
        describe_net_error(sys, server.error()));
    return 1;
  }
  node_welcome welcome;
  caf::error failure;
  self->request(*server, control_timeout, node_hello{"edge", opts.id, node_protocol_version})
      .receive([&](node_welcome& w) { welcome = std::move(w); },
               [&](caf::error& err) { failure = err; });
  if (failure) {
    log("error: the server refused the hello: " + describe(failure));
    return 2;
  }
  scenario sc;
  if (auto err = load_scenario_text(welcome.scenario_yaml, "scenario from the server", sc)) {
    log("error: " + err->message);
    return 2;
  }
  if (opts.id >= sc.topology.edges) {
    log("error: --id " + std::to_string(opts.id) + " out of range: the scenario has " +
        std::to_string(sc.topology.edges) + " edges (ids 0.." +
        std::to_string(sc.topology.edges - 1) + ")");
    return 2;
  }

  std::shared_ptr<const data_source> data;
  model_spec spec;
  try {
    data = make_data_source(sc);
    spec = make_model_spec(sc);
  } catch (const std::exception& e) {
    log(std::string{"error: "} + e.what());
    return 1;
  }
  if (auto err = check_model_for(sc, spec)) {
    log("error: " + *err);
    return 2;
  }
  if (auto w = spec.unfederated_state(); !w.empty()) log("warning: " + w);
  std::optional<temp_state_dir> temp;  // outlives the store
  std::shared_ptr<client_state_store> state;
  try {
    if (needs_client_state(sc)) {
      auto file = opts.state_file;
      if (file.empty()) file = temp.emplace().file();
      state = std::make_shared<client_state_store>(
          file, static_cast<size_t>(sc.pool.client_state_mb) << 20);
    }
  } catch (const std::exception& e) {
    log(std::string{"error: "} + e.what());
    return 1;
  }
  auto trainers = spawn_trainer_pool(sys, spec, opts.trainers ? opts.trainers : sc.pool.trainers);
  auto directory = std::make_shared<client_directory>();
  const uint32_t capacity =
      opts.capacity ? opts.capacity : std::max(1u, sc.pool.max_live_clients / sc.topology.edges);
  edge_config ecfg{opts.id, capacity, data, trainers};
  ecfg.provider = [directory](uint32_t id) { return directory->find(id); };
  ecfg.state = state;
  auto e = spawn_edge(sys, std::move(ecfg));
  edge_node_config ncfg;
  ncfg.id = opts.id;
  ncfg.welcome = welcome;
  ncfg.clients = sc.population.clients;
  ncfg.directory = directory;
  ncfg.log = opts.log;
  auto node = sys.spawn(edge_node, std::move(ncfg));
  auto shutdown_all = [&] {
    self->send_exit(node, caf::exit_reason::user_shutdown);
    self->send_exit(e, caf::exit_reason::user_shutdown);
    self->send_exit(trainers, caf::exit_reason::user_shutdown);
    if (opts.net.tls()) set_tls_refusal_log({});
  };

  auto port = publish_on(sys, edge_node_actor{node}, opts.listen, opts.net);
  if (!port) {
    log("error: cannot listen on " + to_string(opts.listen) + ": " +
        describe_net_error(sys, port.error()));
    shutdown_all();
    return 1;
  }
  const std::string address = to_string(host_port{opts.listen.host, *port});
  log("listening on " + address + (opts.net.tls() ? " (TLS)" : "") + " for client hosts; edge " +
      std::to_string(opts.id) + " of " + std::to_string(sc.topology.edges) + ", capacity " +
      std::to_string(capacity));
  if (opts.on_listening) opts.on_listening(*port);

  if (opts.wait_hosts > 0) {
    log("waiting for " + std::to_string(opts.wait_hosts) + " client host" +
        (opts.wait_hosts == 1 ? "" : "s"));
    self->request(node, caf::infinite, hosts_atom::value, opts.wait_hosts)
        .receive([](uint32_t) {}, [&](caf::error& err) { failure = err; });
  }

  node_ack ack;
  self->request(*server, control_timeout,
                edge_join{opts.id, opts.region, capacity, address, caf::actor_cast<caf::actor>(e),
                          caf::actor_cast<caf::actor>(node)})
      .receive([&](node_ack& a) { ack = std::move(a); }, [&](caf::error& err) { failure = err; });
  if (failure || !ack.accepted) {
    log("error: the server refused edge " + std::to_string(opts.id) + ": " +
        (failure ? describe(failure) : ack.message));
    shutdown_all();
    return 2;
  }
  log("registered with the server at " + to_string(opts.server) + " as edge " +
      std::to_string(opts.id));
  self->send(node, watch_atom::value, caf::actor_cast<caf::actor>(*server));

  stop_switch::guard armed;
  if (opts.stop)
    armed = opts.stop->arm(
        [node](const std::string& reason) { caf::anon_send(node, stop_atom::value, reason); });
  std::string end;
  self->request(node, caf::infinite, await_end_atom::value)
      .receive([&](std::string& r) { end = std::move(r); },
               [&](caf::error& err) { end = "lost: " + describe(err); });
  armed.release();
  if (end.rfind("stopped", 0) == 0) {
    log(end + ": leaving; the server sees edge " + std::to_string(opts.id) + " lost");
    shutdown_all();
    return 0;
  }
  log(end);
  shutdown_all();
  return end.rfind("shutdown", 0) == 0 ? 0 : 1;
}

}  // namespace fedactor
