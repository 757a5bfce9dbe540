// The server node: registrar, roster, server actor over remote edges, shutdown.

#include "runtime/host/node_server.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include <caf/scoped_actor.hpp>

#include "actors/evaluator.hpp"
#include "actors/registrar.hpp"
#include "actors/round_observer.hpp"
#include "actors/server.hpp"
#include "messages/errors.hpp"
#include "runtime/host/tls_log.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/metrics/metrics_writer.hpp"
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
  if (auto err = check(opts.net)) throw std::runtime_error(*err);
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
  auto reg = sys.spawn(registrar, registrar_config{to_yaml(sc), edges, opts.log});
  auto port = publish_on(sys, registrar_actor{reg}, opts.listen, opts.net);
  if (!port) {
    caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen on " + to_string(opts.listen) + ": " +
                             describe_net_error(sys, port.error()));
  }
  log("listening on " + to_string(host_port{opts.listen.host, *port}) +
      (opts.net.tls() ? " (TLS)" : "") + ", waiting for " + std::to_string(edges) + " edge" +
      (edges == 1 ? "" : "s") + "; heartbeat " + format_duration(opts.net.heartbeat) +
      ", connection timeout " + format_duration(opts.net.connection_timeout));
  if (opts.on_listening) opts.on_listening(*port);

  caf::scoped_actor self{sys};
  std::vector<edge_join> roster;
  caf::error failure;
  const auto wait = opts.join_timeout > caf::timespan{0} ? caf::duration{opts.join_timeout}
                                                         : caf::duration{caf::infinite};
  self->request(reg, wait, roster_atom::value)
      .receive([&](std::vector<edge_join>& r) { roster = std::move(r); },
               [&](caf::error& err) { failure = err; });
  if (failure) {
    self->send_exit(reg, caf::exit_reason::user_shutdown);
    throw std::runtime_error("not every edge joined within " + format_duration(opts.join_timeout) +
                             ": " + describe(failure));
  }
  log((edges == 1 ? std::string{"the edge"} : "all " + std::to_string(edges) + " edges") +
      " joined; running " + sc.name + " (" + to_string(sc.protocol.mode) + ")");

  server_config scfg;
  scfg.sc = sc;
  scfg.initial_model = initial_params(out.spec, sc.seed);
  scfg.registry = registry;
  uint32_t capacity = std::max(1u, sc.pool.max_live_clients / edges);
  for (auto& j : roster) {
    scfg.edges.push_back(caf::actor_cast<edge_actor>(j.edge));
    if (j.capacity > 0) capacity = std::min(capacity, j.capacity);
  }
  scfg.edge_capacity = capacity;
  // As in one process: records go server -> observer (the model evaluated every eval.every
  // rounds, off the server's thread) -> the host's callback, in round order.
  auto round_wall = std::make_shared<double>(0.0);
  auto last_eval = std::make_shared<round_record>();
  observer_config ocfg;
  if (sc.eval.every > 0)
    ocfg.evaluator = spawn_evaluator(sys, make_evaluator_config(sc, out.spec, data));
  ocfg.every = sc.eval.every;
  ocfg.last_round =
      sc.protocol.mode == protocol_mode::async ? sc.async.aggregations : sc.protocol.rounds;
  ocfg.on_round = [cb = opts.on_round, round_wall, last_eval](const round_record& r) {
    *round_wall += r.wall_s;
    if (r.evaluated) *last_eval = r;
    if (cb) cb(r);
  };
  evaluator_actor evaluator = ocfg.evaluator ? *ocfg.evaluator : evaluator_actor{};
  auto observer = sys.spawn(round_observer, std::move(ocfg));
  scfg.on_round = [observer](const round_record& r, const param_blob& model) {
    caf::anon_send(observer, r, model);
  };
  scfg.on_event = opts.log;
  auto srv = sys.spawn(server, std::move(scfg));
  self->send(reg, serving_atom::value, caf::actor_cast<caf::actor>(srv));

  federation_result& result = out.result;
  // A local request: the run takes as long as it takes; every request to an edge inside it
  // has its own timeout.
  self->request(srv, caf::infinite, run_atom::value)
      .receive(
          [&](run_report& rep) {
            result.model = rep.model.values();
            auto& s = result.summary;
            s.rounds = rep.rounds;
            s.clients_trained = rep.clients_trained;
            s.failures = rep.failures;
            s.final_loss = rep.final_loss;
            s.sim_time_s = rep.sim_time_s;
            s.total_updates = rep.total_updates;
            s.stale_updates = rep.stale_updates;
            s.rejected_updates = rep.rejected_updates;
            if (sc.protocol.mode == protocol_mode::async) s.aggregations = rep.rounds;
          },
          [&](caf::error& err) { failure = err; });
  // Every record (and its evaluation) is handed on before the output is closed.
  self->request(observer, caf::infinite, flush_atom::value)
      .receive([](bool) {},
               [&](caf::error& err) {
                 if (!failure) failure = err;
               });
  self->send_exit(observer, caf::exit_reason::user_shutdown);
  if (evaluator) self->send_exit(evaluator, caf::exit_reason::user_shutdown);
  const std::string outcome = failure ? "the server failed: " + describe(failure) : "run complete";
  uint32_t acked = 0;
  self->request(reg, std::chrono::seconds(30), close_atom::value, outcome)
      .receive([&](uint32_t n) { acked = n; }, [&](caf::error&) {});
  log("told " + std::to_string(acked) + " edge node" + (acked == 1 ? "" : "s") +
      " that the run is over");
  self->send_exit(srv, caf::exit_reason::user_shutdown);
  self->send_exit(reg, caf::exit_reason::user_shutdown);
  if (opts.net.tls()) set_tls_refusal_log({});
  if (failure) throw std::runtime_error(outcome);

  auto& sum = result.summary;
  sum.scenario = sc.name;
  sum.protocol = to_string(sc.protocol.mode);
  sum.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sum.mean_clients_per_s = *round_wall > 0 ? sum.clients_trained / *round_wall : 0.0;
  sum.model_sha256 = model_sha256(result.model);
  sum.model_l2 = l2_norm(result.model);
  sum.num_params = result.model.size();
  sum.peak_rss_bytes = peak_rss_bytes();
  sum.registered_clients = sc.population.clients;
  note_evaluation(sum, *last_eval);
  return out;
}

}  // namespace fedactor
