#include "runtime/host/federation.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <caf/scoped_actor.hpp>

#include "actors/edge.hpp"
#include "actors/evaluator.hpp"
#include "actors/round_observer.hpp"
#include "actors/server.hpp"
#include "actors/trainer.hpp"
#include "messages/errors.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/load.hpp"
#include "runtime/timing/device_profile.hpp"

namespace fedactor {

namespace {

// Embedders may build a scenario in code, past the loader's checks.
scenario validated(scenario s) {
  if (auto err = validate(s)) throw std::runtime_error(err->message);
  return s;
}

}  // namespace

federation::federation(caf::actor_system& sys, scenario s)
    : sys_(sys), scenario_(validated(std::move(s))), spec_(make_model_spec(scenario_)) {}

federation::~federation() = default;

void federation::on_round(std::function<void(const round_record&)> callback) {
  on_round_ = std::move(callback);
}

federation_result federation::run() {
  const auto t0 = std::chrono::steady_clock::now();
  auto data = make_data_source(scenario_);
  auto registry = std::make_shared<client_registry>(
      scenario_.population.clients, scenario_.seed, scenario_.population.regions,
      [&data](client_id id) { return data->num_samples(id); },
      device_meta_fn(scenario_.devices, scenario_.seed, scenario_.population.regions));

  auto trainers = spawn_trainer_pool(sys_, spec_, scenario_.pool.trainers);
  const uint32_t edges = scenario_.topology.edges;
  const uint32_t capacity = std::max(1u, scenario_.pool.max_live_clients / edges);
  server_config cfg;
  cfg.sc = scenario_;
  cfg.initial_model = initial_params(spec_, scenario_.seed);
  cfg.registry = registry;
  cfg.edge_capacity = capacity;
  for (uint32_t e = 0; e < edges; ++e)
    cfg.edges.push_back(sys_.spawn(edge, edge_config{e, capacity, data, trainers}));
  // Records go server -> observer (which has the model evaluated every eval.every rounds,
  // off the server's thread) -> the host's callback, in round order.
  auto round_wall = std::make_shared<double>(0.0);
  auto last_eval = std::make_shared<round_record>();
  observer_config ocfg;
  if (scenario_.eval.every > 0)
    ocfg.evaluator = spawn_evaluator(sys_, make_evaluator_config(scenario_, spec_, data));
  ocfg.every = scenario_.eval.every;
  ocfg.last_round = scenario_.protocol.mode == protocol_mode::async ? scenario_.async.aggregations
                                                                    : scenario_.protocol.rounds;
  ocfg.on_round = [callback = on_round_, round_wall, last_eval](const round_record& r) {
    *round_wall += r.wall_s;
    if (r.evaluated) *last_eval = r;
    if (callback) callback(r);
  };
  evaluator_actor evaluator = ocfg.evaluator ? *ocfg.evaluator : evaluator_actor{};
  auto observer = sys_.spawn(round_observer, std::move(ocfg));
  cfg.on_round = [observer](const round_record& r, const param_blob& model) {
    caf::anon_send(observer, r, model);
  };
  auto edge_handles = cfg.edges;
  auto srv = sys_.spawn(server, std::move(cfg));
  registry_bytes_ = registry->bytes();

  federation_result result;
  caf::error failure;
  {
    caf::scoped_actor self{sys_};
    self->request(srv, caf::infinite, run_atom::value)
        .receive(
            [&](run_report& rep) {
              result.model = rep.model.values();
              result.summary.rounds = rep.rounds;
              result.summary.clients_trained = rep.clients_trained;
              result.summary.failures = rep.failures;
              result.summary.final_loss = rep.final_loss;
              result.summary.sim_time_s = rep.sim_time_s;
              result.summary.total_updates = rep.total_updates;
              result.summary.stale_updates = rep.stale_updates;
              result.summary.rejected_updates = rep.rejected_updates;
              if (scenario_.protocol.mode == protocol_mode::async)
                result.summary.aggregations = rep.rounds;
            },
            [&](caf::error& err) { failure = err; });
    // Every record (and its evaluation) is handed on before run() returns.
    self->request(observer, caf::infinite, flush_atom::value)
        .receive([](bool) {}, [&](caf::error& err) { failure = err; });
    self->send_exit(observer, caf::exit_reason::user_shutdown);
    if (evaluator) self->send_exit(evaluator, caf::exit_reason::user_shutdown);
    for (auto& e : edge_handles) self->send_exit(e, caf::exit_reason::user_shutdown);
    self->send_exit(srv, caf::exit_reason::user_shutdown);
    self->send_exit(trainers, caf::exit_reason::user_shutdown);
  }
  if (failure) throw std::runtime_error("the server failed: " + describe(failure));

  model_ = result.model;
  auto& sum = result.summary;
  sum.scenario = scenario_.name;
  sum.protocol = to_string(scenario_.protocol.mode);
  sum.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  sum.mean_clients_per_s = *round_wall > 0 ? sum.clients_trained / *round_wall : 0.0;
  sum.model_sha256 = model_sha256(model_);
  sum.model_l2 = l2_norm(model_);
  sum.num_params = model_.size();
  sum.peak_rss_bytes = peak_rss_bytes();
  sum.registered_clients = scenario_.population.clients;
  note_evaluation(sum, *last_eval);
  return result;
}

}  // namespace fedactor
