#include "runtime/host/federation.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <utility>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/edge.hpp"
#include "actors/trainer.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/host/client_state_files.hpp"
#include "runtime/learning/data_source.hpp"
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
    : sys_(sys), scenario_(validated(std::move(s))), spec_(make_model_spec(scenario_)) {
  if (auto err = check_model_for(scenario_, spec_)) throw std::runtime_error(*err);
  if (auto w = spec_.unfederated_state(); !w.empty()) warnings_.push_back(w);
}

void federation::set_client_state_file(std::filesystem::path file) {
  state_file_ = std::move(file);
}

federation::~federation() = default;

void federation::set_checkpoint(std::filesystem::path dir) {
  checkpoint_dir_ = std::move(dir);
  if (auto why = mid_run_checkpoint_limit(scenario_)) warnings_.push_back(*why);
}

uint32_t federation::resume_from(const std::filesystem::path& dir) {
  auto c = std::make_shared<run_checkpoint>(read_run_checkpoint(dir));
  if (c->scenario_yaml != to_yaml(scenario_))
    throw checkpoint_error(checkpoint_state_file(dir).string() +
                           ": written by a run of another scenario");
  resume_dir_ = dir;
  resume_ = std::move(c);
  return resume_->round;
}

void federation::on_round(std::function<void(const round_record&)> callback) {
  on_round_ = std::move(callback);
}

void federation::set_server_optimizer(
    std::function<std::unique_ptr<server_optimizer>(size_t dim)> factory) {
  parts_.optimizer = std::move(factory);
}

void federation::set_sampler(
    std::function<std::unique_ptr<sampler>(client_registry& reg, uint64_t seed)> factory) {
  parts_.pick = std::move(factory);
}

void federation::set_staleness_weight(staleness_weight weight) {
  parts_.weight = std::move(weight);
}

void federation::stop(const std::string& reason) {
  stop_.request(reason);
}

federation_result federation::run() {
  const auto t0 = std::chrono::steady_clock::now();
  auto data = make_data_source(scenario_);
  auto registry = std::make_shared<client_registry>(
      scenario_.population.clients, scenario_.seed, scenario_.population.regions,
      [&data](client_id id) { return data->num_samples(id); },
      device_meta_fn(scenario_.devices, scenario_.seed, scenario_.population.regions));
  registry_bytes_ = registry->bytes();

  auto trainers = spawn_trainer_pool(sys_, spec_, scenario_.pool.trainers);
  // The clients' algorithm state, when the algorithm keeps any.
  std::optional<temp_state_dir> temp;  // outlives the store (declared first)
  std::shared_ptr<client_state_store> state;
  if (needs_client_state(scenario_)) {
    auto file = state_file_;
    if (file.empty()) {
      temp.emplace();
      file = temp->file();
    }
    if (resume_ && !resume_->client_state.empty()) {
      // The store as of the checkpoint: the live file (and its write-ahead log) ran ahead.
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(file.string() + suffix, ec);
      if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
      std::filesystem::copy_file(resume_dir_ / resume_->client_state, file, ec);
      if (ec)
        throw checkpoint_error((resume_dir_ / resume_->client_state).string() +
                               ": cannot restore the client state: " + ec.message());
    }
    state = std::make_shared<client_state_store>(
        file, static_cast<size_t>(scenario_.pool.client_state_mb) << 20);
  }
  const uint32_t edges = scenario_.topology.edges;
  const uint32_t capacity = std::max(1u, scenario_.pool.max_live_clients / edges);
  server_graph_config cfg;
  cfg.sc = scenario_;
  cfg.spec = spec_;
  cfg.data = data;
  cfg.registry = registry;
  for (uint32_t e = 0; e < edges; ++e)
    cfg.edges.push_back(spawn_edge(
        sys_,
        edge_config{e, capacity, data, trainers, {}, state, registry->size(), scenario_.attack}));
  cfg.edge_capacity = capacity;
  cfg.initial_model = initial_params(spec_, scenario_.seed);
  cfg.parts = parts_;
  cfg.client_state = state;
  cfg.on_round = on_round_;
  cfg.checkpoint_dir = checkpoint_dir_;
  cfg.resume = std::exchange(resume_, nullptr);  // one run resumes; a later one starts afresh
  auto edge_handles = cfg.edges;
  auto stop_edges = [&] {
    for (auto& e : edge_handles) caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(trainers, caf::exit_reason::user_shutdown);
  };
  federation_result result;
  try {
    stop_switch::guard armed;
    result = run_server_graph(sys_, std::move(cfg), t0, [&](const server_actor& srv) {
      armed.release();  // the previous server's, after a scripted crash
      armed = stop_.arm(
          [srv](const std::string& reason) { caf::anon_send(srv, stop_atom::value, reason); });
    });
  } catch (...) {
    stop_.reset();
    stop_edges();
    throw;
  }
  stop_.reset();
  stop_edges();
  model_ = result.model;
  return result;
}

}  // namespace fedactor
