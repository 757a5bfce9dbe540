#include "runtime/host/server_graph.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include <caf/scoped_actor.hpp>

#include "messages/errors.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/host/client_state_files.hpp"
#include "runtime/math/model_digest.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/scenario/load.hpp"
#include "runtime/state/client_state_store.hpp"

namespace fedactor {

namespace {

// What every summary has beside the server's totals: names, times, the model's digest.
void complete_summary(federation_result& result, const scenario& sc,
                      std::chrono::steady_clock::time_point started, double round_wall_s) {
  auto& sum = result.summary;
  sum.scenario = sc.name;
  sum.protocol = to_string(sc.protocol.mode);
  sum.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  sum.mean_clients_per_s = round_wall_s > 0 ? sum.clients_trained / round_wall_s : 0.0;
  sum.model_sha256 = model_sha256(result.model);
  sum.model_l2 = l2_norm(result.model);
  sum.num_params = result.model.size();
  sum.peak_rss_bytes = peak_rss_bytes();
  sum.registered_clients = sc.population.clients;
}

}  // namespace

std::optional<std::string> server_checkpoint_limit(const scenario& sc, bool client_state_here) {
  if (auto why = mid_run_checkpoint_limit(sc)) return why;
  if (needs_client_state(sc) && !client_state_here)
    return "runs whose client hosts keep client state (strategy.client scaffold, compression.kind "
           "topk, "
           "strategy.normalization local) are checkpointed at the end only (the state lives "
           "with the hosts)";
  return std::nullopt;
}

server_graph::server_graph(caf::actor_system& sys, server_graph_config cfg)
    : sys_(sys),
      cfg_(std::move(cfg)),
      round_wall_(std::make_shared<double>(0.0)),
      last_eval_(std::make_shared<round_record>()),
      update_traffic_(std::make_shared<std::pair<uint64_t, uint64_t>>(0, 0)),
      checkpoint_failure_(std::make_shared<std::string>()),
      model_traffic_(std::make_shared<uint64_t>(0)) {
  const auto& sc = cfg_.sc;
  const std::string yaml = to_yaml(sc);
  if (cfg_.resume) {
    if (cfg_.resume->scenario_yaml != yaml)
      throw checkpoint_error("checkpoint: it was written by a run of another scenario");
    *round_wall_ = cfg_.resume->round_wall_s;
    *last_eval_ = cfg_.resume->last_eval;
  }
  observer_config ocfg;
  if (sc.eval.every > 0)
    ocfg.evaluator =
        spawn_evaluator(sys_, make_evaluator_config(sc, cfg_.spec, cfg_.data, cfg_.client_state));
  ocfg.every = sc.eval.every;
  ocfg.last_round =
      sc.protocol.mode == protocol_mode::async ? sc.async.aggregations : sc.protocol.rounds;
  ocfg.on_round = [cb = cfg_.on_round, wall = round_wall_, last = last_eval_,
                   traffic = update_traffic_, models = model_traffic_](const round_record& r) {
    *wall += r.wall_s;
    traffic->first += r.update_bytes_up;
    *models += r.model_bytes_down;
    traffic->second += r.updates_up;
    if (r.evaluated) *last = r;
    if (cb) cb(r);
  };
  if (!cfg_.checkpoint_dir.empty()) {
    ocfg.on_checkpoint = [dir = cfg_.checkpoint_dir, yaml, wall = round_wall_, last = last_eval_,
                          failed = checkpoint_failure_](const loop_checkpoint& c) {
      run_checkpoint rc{yaml, c.round, c.finished, c.client_state, *wall, *last, c.state};
      try {
        write_run_checkpoint(dir, rc);
      } catch (const std::exception& e) {
        if (failed->empty()) *failed = e.what();
      }
    };
  }
  if (ocfg.evaluator) evaluator_ = *ocfg.evaluator;
  observer_ = sys_.spawn(round_observer, std::move(ocfg));
  server_config scfg;
  scfg.sc = sc;
  scfg.initial_model = cfg_.initial_model;
  scfg.trainable = cfg_.spec.num_params();
  scfg.registry = cfg_.registry;
  scfg.edges = cfg_.edges;
  scfg.edge_capacity = cfg_.edge_capacity;
  scfg.parts = cfg_.parts;
  scfg.on_round = [obs = observer_](const round_record& r, const param_blob& model) {
    caf::anon_send(obs, r, model);
  };
  scfg.on_event = cfg_.on_event;
  scfg.peer_address = cfg_.peer_address;
  scfg.model_references = cfg_.model_references;
  if (!cfg_.checkpoint_dir.empty()) {
    scfg.on_checkpoint = [obs = observer_](std::shared_ptr<const loop_checkpoint> c) {
      caf::anon_send(obs, checkpoint_note{std::move(c)});
    };
    if (cfg_.client_state)
      scfg.snapshot_client_state = [store = cfg_.client_state,
                                    dir = cfg_.checkpoint_dir](uint32_t round) {
        const std::string name = "client_state-" + std::to_string(round) + ".db";
        store->snapshot_to(dir / name);
        return name;
      };
  }
  scfg.mid_run_checkpoints = !(needs_client_state(sc) && !cfg_.client_state);
  if (cfg_.resume) scfg.resume_state = cfg_.resume->loop;
  try {
    server_ = spawn_server(sys_, std::move(scfg));
  } catch (...) {
    caf::anon_send_exit(observer_, caf::exit_reason::user_shutdown);
    if (evaluator_) caf::anon_send_exit(evaluator_, caf::exit_reason::user_shutdown);
    throw;
  }
}

server_graph::~server_graph() {
  caf::anon_send_exit(observer_, caf::exit_reason::user_shutdown);
  if (evaluator_) caf::anon_send_exit(evaluator_, caf::exit_reason::user_shutdown);
  if (server_) caf::anon_send_exit(server_, caf::exit_reason::user_shutdown);
}

federation_result server_graph::run(std::chrono::steady_clock::time_point started) {
  const auto& sc = cfg_.sc;
  federation_result result;
  caf::error failure;
  caf::scoped_actor self{sys_};
  // A local request: the run takes as long as it takes; every request to an edge inside it
  // has its own timeout.
  self->request(server_, caf::infinite, run_atom::value)
      .receive(
          [&](run_report& rep) {
            result.model = rep.model.values();
            auto& s = result.summary;
            s.rounds = rep.rounds;
            s.clients_trained = rep.clients_trained;
            s.failures = rep.failures;
            if (auto by = failure_counts::from_wire(rep.failures_by)) s.failures_by = *by;
            s.final_loss = rep.final_loss;
            s.sim_time_s = rep.sim_time_s;
            s.total_updates = rep.total_updates;
            s.stale_updates = rep.stale_updates;
            s.rejected_updates = rep.rejected_updates;
            s.norm_bound_on = sc.robust.norm_bound.mode != norm_bound_mode::off;
            s.norm_clipped = rep.norm_clipped;
            s.norm_rejected = rep.norm_rejected;
            s.interrupted = rep.interrupted;
            s.stopped_by = rep.stopped_by;
            s.private_run = rep.private_run;
            s.epsilon = rep.epsilon;
            s.delta = rep.delta;
            s.final_clip = rep.final_clip;
            if (sc.protocol.mode == protocol_mode::async) s.aggregations = rep.rounds;
          },
          [&](caf::error& err) { failure = err; });
  // Every record (and its evaluation) is handed on before run() returns.
  self->request(observer_, caf::infinite, flush_atom::value)
      .receive([](bool) {},
               [&](caf::error& err) {
                 if (!failure) failure = err;
               });
  if (failure) throw std::runtime_error("the server failed: " + describe(failure));
  if (!checkpoint_failure_->empty()) throw std::runtime_error(*checkpoint_failure_);
  complete_summary(result, sc, started, *round_wall_);
  note_evaluation(result.summary, *last_eval_);
  result.summary.update_bytes_up = update_traffic_->first;
  result.summary.updates_up = update_traffic_->second;
  result.summary.model_bytes_down = *model_traffic_;
  return result;
}

federation_result run_server_graph(caf::actor_system& sys, server_graph_config cfg,
                                   std::chrono::steady_clock::time_point started,
                                   const std::function<void(const server_actor&)>& on_server) {
  const bool crashes =
      std::any_of(cfg.sc.events.begin(), cfg.sc.events.end(),
                  [](const scenario_event& e) { return e.kind == event_kind::server_crash; });
  std::optional<temp_state_dir> temp;  // checkpoints of a crashing run without a directory
  if (crashes && cfg.checkpoint_dir.empty())
    cfg.checkpoint_dir = temp.emplace().file().parent_path();
  for (;;) {
    federation_result result;
    {
      server_graph graph{sys, cfg};
      if (on_server) on_server(graph.server());
      result = graph.run(started);
    }
    if (!(result.summary.interrupted && result.summary.stopped_by == server_crash_reason))
      return result;
    // The checkpoint the server wrote as it went down (after every record before it).
    cfg.resume = std::make_shared<const run_checkpoint>(read_run_checkpoint(cfg.checkpoint_dir));
    if (cfg.on_event)
      cfg.on_event("server crashed (scripted) after " +
                   std::string(cfg.sc.protocol.mode == protocol_mode::async ? "step " : "round ") +
                   std::to_string(cfg.resume->round) +
                   "; a new server resumes from its checkpoint");
  }
}

federation_result unstarted_run(const scenario& sc, std::vector<float> initial_model,
                                std::chrono::steady_clock::time_point started,
                                const std::string& stopped_by) {
  federation_result result;
  result.model = std::move(initial_model);
  result.summary.interrupted = true;
  result.summary.stopped_by = stopped_by;
  complete_summary(result, sc, started, 0.0);
  return result;
}

}  // namespace fedactor
