// The server actor: messages in and out, the protocol loops decide.

#include "actors/server.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include <caf/node_id.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/request_timeout.hpp"
#include "messages/errors.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/protocol/async_loop.hpp"
#include "runtime/protocol/edge_set.hpp"
#include "runtime/protocol/model_references.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/protocol/sync_loop.hpp"
#include "runtime/strategy/client_algorithm.hpp"

namespace fedactor {

namespace {

// What the actor owns: the edge set and the loop of the scenario's protocol.
struct server_parts {
  server_config cfg;
  std::unique_ptr<edge_set> edges;
  std::unique_ptr<sync_loop> sync;
  std::unique_ptr<async_loop> async;
};

struct server_state {
  std::shared_ptr<server_parts> p;
  caf::typed_response_promise<run_report> promise;
  bool started = false;
  std::string stop_reason;  // set by stop_atom
  // Model bytes sent down to the edges not yet in a record (round_record::model_bytes_down):
  // sync by round (a round's batches are sent before the previous round's record is
  // reported), async since the last step's record.
  std::map<uint32_t, uint64_t> model_bytes_by_round;
  uint64_t model_bytes_since_step = 0;
  // Async, edges in other processes (server_config::model_references): the versions each
  // edge was sent in full, and each version's digest.
  std::optional<model_references> refs;
  static inline const char* name = "fedactor.server";
};

using server_ptr = server_actor::stateful_pointer<server_state>;

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

// A request to an edge that terminated (in this process, or one CAF reports as gone) fails
// with request_receiver_down, possibly before the down message: the same event.
bool receiver_down(const caf::error& err) {
  return err == caf::sec::request_receiver_down;
}

// The request went to edge e's current handle (not one a new registration has replaced).
bool current_handle(server_ptr self, uint32_t e, const caf::actor_addr& dest) {
  return self->state.p->cfg.edges[e].address() == dest;
}

void note_event(server_ptr self, const std::string& what) {
  if (self->state.p->cfg.on_event) self->state.p->cfg.on_event(what);
}

// "peer NODE" or, when its address is known, "peer NODE at IP:port".
std::string peer_name(server_ptr self, const caf::node_id& node) {
  std::string out = "peer " + caf::to_string(node);
  const auto& where = self->state.p->cfg.peer_address;
  if (where)
    if (auto addr = where(node); !addr.empty()) out += " at " + addr;
  return out;
}

void edge_lost(server_ptr self, uint32_t e, const caf::error& reason);

server_actor::behavior_type done(server_ptr self);

void report_round(server_ptr self, const finished_round& r) {
  auto& st = self->state;
  round_record rec = r.record;
  if (rec.async) {
    rec.model_bytes_down = st.model_bytes_since_step;
    st.model_bytes_since_step = 0;
  } else if (auto it = st.model_bytes_by_round.find(rec.round);
             it != st.model_bytes_by_round.end()) {
    rec.model_bytes_down = it->second;
    st.model_bytes_by_round.erase(it);
  }
  auto& cfg = st.p->cfg;
  if (cfg.on_round) cfg.on_round(rec, param_blob{r.model});
}

// The bytes of a task's model and aux values as they cross the server -> edge link.
uint64_t model_bytes_of(const param_blob& model, const param_blob& aux) {
  return 4 * static_cast<uint64_t>(model.size() + aux.size());
}

void finish(server_ptr self) {
  auto& st = self->state;
  auto& p = *st.p;
  run_report rep;
  const run_totals* totals = nullptr;
  if (p.sync) {
    rep.rounds = p.sync->rounds_done();
    rep.model_version = p.sync->version();
    rep.model = param_blob{p.sync->model()};
    rep.sim_time_s = p.sync->sim_time();
    totals = &p.sync->totals();
    if (const auto* dp = p.sync->privacy()) {
      const auto spent = dp->spent();
      rep.private_run = true;
      rep.epsilon = spent.epsilon;
      rep.delta = spent.delta;
      rep.final_clip = dp->clip();
    }
  } else {
    rep.rounds = p.async->steps_done();
    rep.model_version = p.async->version();
    rep.model = param_blob{p.async->model()};
    rep.sim_time_s = p.async->sim_time();
    totals = &p.async->totals();
  }
  rep.clients_trained = totals->clients_trained;
  rep.failures = totals->failures.total();
  rep.failures_by = totals->failures.to_wire();
  rep.final_loss = totals->final_loss;
  rep.total_updates = totals->total_updates;
  rep.stale_updates = totals->stale_updates;
  rep.rejected_updates = totals->rejected_updates;
  rep.norm_clipped = totals->norm_clipped;
  rep.norm_rejected = totals->norm_rejected;
  const bool halted = p.sync ? p.sync->halted() : p.async->halted();
  const bool stalled = !p.sync && p.async->stalled();
  rep.interrupted = halted || stalled || (p.sync ? p.sync->stopped() : p.async->stopped());
  if (halted)
    rep.stopped_by = server_crash_reason;
  else if (stalled)
    rep.stopped_by = p.async->stall_reason();
  else if (rep.interrupted)
    rep.stopped_by = st.stop_reason;
  st.promise.deliver(std::move(rep));
  self->become(done(self));
}

// -- sync ----------------------------------------------------------------------------------

void apply(server_ptr self, sync_step step);
void apply_answer(server_ptr self, const caf::actor_addr& from, sync_step step);

void send_batch(server_ptr self, sync_task t) {
  const auto& sc = self->state.p->cfg.sc;
  const uint32_t e = t.batch.edge;
  const uint64_t id = t.batch.id;
  edge_ins ins;
  ins.round = t.round;
  ins.model_version = t.model_version;
  ins.seed = sc.seed;
  ins.model = param_blob{t.model};
  ins.settings = train_settings_of(sc);
  ins.client_timeout_s = sc.training.timeout_s;
  ins.clients = std::move(t.batch.clients);
  if (t.aux) ins.aux = param_blob{t.aux};
  self->state.model_bytes_by_round[t.round] += model_bytes_of(ins.model, ins.aux);
  ins.robust = t.robust;
  ins.clip = t.clip;
  const auto& handle = self->state.p->cfg.edges[e];
  const auto dest = handle.address();
  const auto base = t.model;  // decodes a compressed answer
  auto request = self->request(handle, seconds(t.timeout_s), std::move(ins));
  const auto rid = request.id();
  request.then(
      [=](edge_res& res) {
        forget_request_timeout(self, rid);
        auto& loop = *self->state.p->sync;
        auto failed = failure_counts::from_wire(res.failed_by);
        if (!failed) {
          apply_answer(
              self, dest,
              loop.refused(id, answer_refusal::failure_codes,
                           "failure counts of " + std::to_string(res.failed_by.size()) + " codes"));
          return;
        }
        // The client results the edge refused: one count per reason, all among the batch's
        // invalid_update failures.
        auto refused_results = result_refusals_from_wire(res.refused_results);
        uint64_t refused_total = 0;
        if (refused_results)
          for (auto n : *refused_results) refused_total += n;
        if (!refused_results || refused_total > failed->of(failure_code::invalid_update)) {
          const std::string what =
              refused_results ? std::to_string(refused_total) + " refused client results, " +
                                    std::to_string(failed->of(failure_code::invalid_update)) +
                                    " invalid updates"
                              : "refused result counts of " +
                                    std::to_string(res.refused_results.size()) + " reasons";
          apply_answer(self, dest, loop.refused(id, answer_refusal::refusal_counts, what));
          return;
        }
        const bool current = loop.batch(id) != nullptr;
        edge_report rep;
        rep.round = res.round;
        rep.aggregate = std::move(res.aggregate);
        rep.aux_aggregate = std::move(res.aux_aggregate);
        rep.failed = *failed;
        rep.details = std::move(res.failures);
        rep.live_clients = res.live_clients;
        rep.peak_live_clients = res.peak_live_clients;
        rep.evictions = res.evictions;
        rep.norm = norm_bound_counts{res.norm_within, res.norm_clipped, res.norm_rejected};
        rep.unclipped = res.unclipped;
        rep.update_bytes = res.update_bytes;
        rep.updates_received = res.updates_received;
        rep.reports = std::move(res.reports);
        auto step = loop.answered(id, std::move(rep));
        if (current && step.refused.empty()) add_reported_result_refusals(*refused_results);
        apply_answer(self, dest, std::move(step));
      },
      [=](caf::error& err) {
        forget_request_timeout(self, rid);
        auto& loop = *self->state.p->sync;
        if (!loop.batch(id)) return;  // abandoned with its edge
        if (receiver_down(err)) {
          // A replaced handle's loss is not the edge's: only its batch is gone.
          if (current_handle(self, e, dest))
            edge_lost(self, e, err);
          else
            apply(self, loop.failed(id, failure_code::edge_lost, describe(err)));
          return;
        }
        apply(self, loop.failed(id, failure_code_of(err), describe(err)));
      });
}

// Before the next tasks go out: a mid-run checkpoint snapshots the clients' state, which the
// next round's trainers will change.
void take_checkpoint(server_ptr self, const std::shared_ptr<loop_checkpoint>& ck) {
  auto& cfg = self->state.p->cfg;
  if (!ck || !cfg.on_checkpoint) return;
  if (!ck->finished && cfg.snapshot_client_state)
    ck->client_state = cfg.snapshot_client_state(ck->round);
}

void hand_checkpoint(server_ptr self, std::shared_ptr<loop_checkpoint> ck) {
  auto& cfg = self->state.p->cfg;
  if (ck && cfg.on_checkpoint) cfg.on_checkpoint(std::move(ck));
}

void apply(server_ptr self, sync_step step) {
  take_checkpoint(self, step.checkpoint);
  for (auto& t : step.send) send_batch(self, std::move(t));
  for (auto& r : step.rounds) report_round(self, r);
  hand_checkpoint(self, std::move(step.checkpoint));
  if (step.finished) finish(self);
}

// After an edge's answer: each refusal is one line naming the peer that sent it.
void apply_answer(server_ptr self, const caf::actor_addr& from, sync_step step) {
  for (auto& r : step.refused)
    note_event(self, "refused the answer of " + peer_name(self, from.node()) + " (" + r + ")");
  apply(self, std::move(step));
}

// -- async ---------------------------------------------------------------------------------

void apply(server_ptr self, async_step step);

bool model_missing(const caf::error& err) {
  return err.category() == errc_atom::value &&
         err.code() == static_cast<uint8_t>(errc::model_missing);
}

// Sends task `t` to its edge, to be answered by `deadline` (on the actor's clock). With model
// references on, the model goes by reference when the edge was sent its version before (and
// `full` is false); a reference the edge cannot match is sent again in full, by the same
// deadline.
void send_task(server_ptr self, const async_task& t, caf::actor_clock::time_point deadline,
               bool full = false) {
  const auto& sc = self->state.p->cfg.sc;
  const uint64_t seq = t.seq;
  const uint32_t attempt = t.attempt, edge = t.edge, client = t.client;
  async_ins ins;
  ins.seq = t.seq;
  ins.client = t.client;
  ins.base_version = t.base_version;
  ins.task_seed = t.task_seed;
  ins.finish = t.finish;
  ins.model = param_blob{t.model};
  ins.settings = train_settings_of(sc);
  ins.timeout_s = sc.training.timeout_s;
  ins.group = t.group;
  ins.group_params = t.group_params;
  auto& refs = self->state.refs;
  if (refs) {
    ins.model_digest = refs->digest(t.base_version, t.model);
    if (full)
      (void)refs->by_reference(edge, t.base_version, ins.model_digest);
    else if (refs->by_reference(edge, t.base_version, ins.model_digest)) {
      ins.model = param_blob{};
      ins.model_by_reference = true;
    }
  }
  const bool by_reference = ins.model_by_reference;
  const std::string digest = ins.model_digest;
  self->state.model_bytes_since_step += model_bytes_of(ins.model, param_blob{});
  const auto& handle = self->state.p->cfg.edges[edge];
  const auto dest = handle.address();
  const auto base = t.model;  // decodes a compressed answer
  const auto left =
      std::max(deadline - self->clock().now(), caf::actor_clock::duration_type::zero());
  auto request =
      self->request(handle, std::chrono::duration_cast<caf::timespan>(left), std::move(ins));
  const auto rid = request.id();
  request.then(
      [=](async_res& res) {
        forget_request_timeout(self, rid);
        auto& loop = *self->state.p->async;
        if (res.seq != seq) {
          apply(self, loop.refused(seq, attempt, answer_refusal::unknown_task,
                                   "an answer naming task " + std::to_string(res.seq)));
          return;
        }
        if (auto* r = std::get_if<async_refused>(&res.outcome)) {
          // A client result the edge refused: a reason we know, for the task's own client,
          // counted once, and only while the task is in flight.
          if (r->reason >= result_refusal_count) {
            apply(self, loop.refused(seq, attempt, answer_refusal::refusal_counts,
                                     "a refused client result with reason code " +
                                         std::to_string(r->reason)));
            return;
          }
          if (res.client != client) {
            apply(self,
                  loop.refused(seq, attempt, answer_refusal::wrong_client,
                               "a refused client result for client " + std::to_string(res.client) +
                                   ", the task's is " + std::to_string(client)));
            return;
          }
          const bool counted = loop.awaiting(seq, attempt);
          auto step = loop.failed(seq, attempt, failure_code::invalid_update, r->what);
          if (counted) {
            result_refusal_counts one{};
            one[r->reason] = 1;
            add_reported_result_refusals(one);
          }
          apply(self, std::move(step));
          return;
        }
        task_outcome out;
        if (auto* u = std::get_if<async_update>(&res.outcome)) {
          const auto& cs = self->state.p->cfg.sc.compression;
          if (cs.kind != compression_kind::none || !u->update.empty()) {
            // A compressed update: decoded here, against the base model this task was sent.
            std::vector<float> params;
            std::optional<std::string> bad;
            if (cs.kind == compression_kind::none)
              bad = "a compressed update in a run without compression";
            else if (u->update.empty())
              bad = "an uncompressed update, expected " + std::string{to_string(cs.kind)};
            else
              bad = decompress_update(cs, u->update, base->data(), base->size(), params);
            if (bad) {
              apply(self, self->state.p->async->failed(seq, attempt, failure_code::invalid_update,
                                                       "client " + std::to_string(res.client) +
                                                           ": rejected update: " + *bad));
              return;
            }
            out = task_update{u->num_samples, u->loss,
                              std::make_shared<const std::vector<float>>(std::move(params)),
                              u->update.size()};
          } else {
            out = task_update{u->num_samples, u->loss, u->params.shared(),
                              uint64_t{4} * u->params.size()};
          }
        } else if (auto* g = std::get_if<async_group>(&res.outcome)) {
          out = task_group{std::move(g->aggregate), std::move(g->members), g->update_bytes};
        } else
          out = task_held{};
        apply(self, loop.answered(seq, attempt, res.client, std::move(out)));
      },
      [=](caf::error& err) {
        forget_request_timeout(self, rid);
        if (by_reference && model_missing(err)) {
          // The edge holds no such model (it restarted, evicted the version, or holds other
          // bytes under it): the same task again, with the model, while it is still awaited.
          auto& st = self->state;
          if (st.refs) st.refs->forget(edge, t.base_version, digest);
          if (st.p->async->awaiting(seq, attempt)) send_task(self, t, deadline, true);
          return;
        }
        auto code = failure_code_of(err);
        if (receiver_down(err)) {
          // A replaced handle's loss is not the edge's: only its task is gone.
          if (current_handle(self, edge, dest)) {
            edge_lost(self, edge, err);
            return;
          }
          code = failure_code::edge_lost;
        }
        apply(self, self->state.p->async->failed(seq, attempt, code, describe(err)));
      });
}

void apply(server_ptr self, async_step step) {
  auto& edges = self->state.p->cfg.edges;
  // Each refused answer is one line naming the peer of the edge that sent it.
  for (auto& r : step.refused)
    note_event(self, "refused the answer of " + peer_name(self, edges[r.edge].node()) + " (" +
                         r.what + ")");
  // Closes first: a group closed by this step was sent before the tasks that follow it.
  for (auto& c : step.close) self->send(edges[c.edge], group_close{c.group, c.size});
  take_checkpoint(self, step.checkpoint);
  for (auto& t : step.send) send_task(self, t, self->clock().now() + seconds(t.timeout_s));
  for (auto& r : step.steps) report_round(self, r);
  hand_checkpoint(self, std::move(step.checkpoint));
  if (step.finished) finish(self);
}

// -- lost and returning edges -------------------------------------------------------------

void edge_lost(server_ptr self, uint32_t e, const caf::error& reason) {
  auto& p = *self->state.p;
  if (!p.edges->lose(e)) return;
  const bool running = self->state.started && !(p.sync ? p.sync->finished() : p.async->finished());
  if (!running) return;
  note_event(self, "edge " + std::to_string(e) + " lost (" + describe(reason) + "), " +
                       std::to_string(p.edges->alive_edges().size()) + " of " +
                       std::to_string(p.edges->size()) + " edges left");
  if (p.sync)
    apply(self, p.sync->edge_lost(e));
  else
    apply(self, p.async->edge_lost(e));
}

void edge_back(server_ptr self, edge_rejoin& msg) {
  auto& p = *self->state.p;
  if (msg.id >= p.cfg.edges.size() || !msg.edge) return;
  auto handle = caf::actor_cast<edge_actor>(msg.edge);
  p.cfg.edges[msg.id] = handle;
  if (self->state.refs) self->state.refs->reset(msg.id);  // a new edge holds no model
  self->monitor(handle);
  const bool was_lost = p.edges->rejoin(msg.id);
  note_event(self, "edge " + std::to_string(msg.id) +
                       (was_lost ? " back in service" : " replaced by a new registration"));
  if (!self->state.started) return;
  if (p.sync)
    p.sync->edge_rejoined(msg.id);
  else
    apply(self, p.async->edge_rejoined(msg.id));
}

// -- stop ----------------------------------------------------------------------------------

// Stops the loop; true when it was still going (the run ends here, not at its last round).
bool stop_loop(server_ptr self, const std::string& reason) {
  auto& p = *self->state.p;
  if (!(p.sync ? p.sync->stop() : p.async->stop())) return false;
  self->state.stop_reason = reason;
  return true;
}

void stop_running(server_ptr self, const std::string& reason) {
  if (!stop_loop(self, reason)) return;
  auto& p = *self->state.p;
  auto ck = p.sync ? p.sync->take_stop_checkpoint() : p.async->take_stop_checkpoint();
  // The clients' state (SCAFFOLD, FedBN) has already moved on for part of the work in flight:
  // such a run resumes from its last periodic checkpoint instead.
  if (p.cfg.snapshot_client_state) ck.reset();
  const std::string saved =
      ck ? (p.sync ? "; checkpointed here (a resumed run redoes that round)"
                   : "; checkpointed here (a resumed run resends those tasks)")
         : (p.cfg.on_checkpoint ? "; not checkpointed here (a resumed run starts from the "
                                  "last checkpoint)"
                                : "");
  if (p.sync)
    note_event(self, "stopped (" + reason + ") after " + std::to_string(p.sync->rounds_done()) +
                         " rounds; the round in progress is abandoned" + saved);
  else
    note_event(self, "stopped (" + reason + ") after " + std::to_string(p.async->steps_done()) +
                         " steps; " + std::to_string(p.async->in_flight()) +
                         " tasks in flight are abandoned" + saved);
  hand_checkpoint(self, std::move(ck));
  finish(self);
}

// Phases (each a behaviour; edges are monitored throughout):
//
//   idle --run_atom--> running --last round / step--> done
//
// idle:    edge_rejoin replaces a handle; run_atom starts the loop; stop_atom is kept for it.
// running: the loop's answers and the edges' losses drive the run (request callbacks and the
//          down handler); edge_rejoin revives an edge; another run_atom is refused; stop_atom
//          ends the run with the last completed round's model.
// done:    the report was delivered; run_atom and edge_rejoin are refused / ignored, and so is
//          stop_atom (answers to abandoned requests still arrive and change nothing).
server_actor::behavior_type done(server_ptr) {
  return {
      [=](run_atom) -> caf::result<run_report> {
        return make_error(errc::bad_request, "the run is over");
      },
      [=](edge_rejoin&) {},
      [=](stop_atom, std::string&) {},
  };
}

server_actor::behavior_type running(server_ptr self) {
  return {
      [=](run_atom) -> caf::result<run_report> {
        return make_error(errc::bad_request, "the server is already running");
      },
      [=](edge_rejoin& msg) { edge_back(self, msg); },
      [=](stop_atom, std::string& reason) { stop_running(self, reason); },
  };
}

server_actor::behavior_type idle(server_ptr self, std::shared_ptr<server_parts> parts) {
  self->state.p = std::move(parts);
  if (self->state.p->async && self->state.p->cfg.model_references) self->state.refs.emplace();
  for (auto& e : self->state.p->cfg.edges) self->monitor(e);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& edges = self->state.p->cfg.edges;
    for (uint32_t e = 0; e < edges.size(); ++e)
      if (edges[e].address() == msg.source) edge_lost(self, e, msg.reason);
  });
  return {
      [=](run_atom) -> caf::result<run_report> {
        auto& st = self->state;
        st.started = true;
        st.promise = self->make_response_promise<run_report>();
        auto rp = st.promise;
        self->become(running(self));
        // Stopped before it started, or resumed from the checkpoint at the end: nothing to run.
        if (st.p->sync ? (st.p->sync->stopped() || st.p->sync->finished())
                       : (st.p->async->stopped() || st.p->async->finished())) {
          finish(self);
          return rp;
        }
        if (st.p->sync)
          apply(self, st.p->sync->start());
        else
          apply(self, st.p->async->start());
        return rp;
      },
      [=](edge_rejoin& msg) { edge_back(self, msg); },
      [=](stop_atom, std::string& reason) { stop_loop(self, reason); },
  };
}

}  // namespace

train_settings train_settings_of(const scenario& sc) {
  return train_settings{sc.training.epochs,   sc.training.batch_size, sc.training.lr,
                        sc.training.momentum, algorithm_name(sc),     algorithm_params(sc),
                        sc.compression};
}

server_actor spawn_server(caf::actor_system& sys, server_config cfg) {
  auto p = std::make_shared<server_parts>();
  p->cfg = std::move(cfg);
  auto& c = p->cfg;
  const size_t dim = c.trainable == 0 || c.trainable > c.initial_model.size()
                         ? c.initial_model.size()
                         : c.trainable;
  p->edges = std::make_unique<edge_set>(
      std::make_unique<router>(c.sc.topology.routing, c.registry->size(),
                               static_cast<uint32_t>(c.edges.size()), c.sc.seed),
      c.sc.faults.on_edge_loss);
  // Edges get regions under region routing, or for the latency alone when the scenario gives
  // topology.edge_regions under range or hash routing.
  if (c.sc.topology.routing == routing_kind::region || !c.sc.topology.edge_regions.empty()) {
    const auto edges = static_cast<uint32_t>(c.edges.size());
    const uint32_t regions = c.sc.population.regions;
    p->edges->route_by_region(
        std::make_unique<region_router>(
            edge_region_list(c.sc.topology.edge_regions, edges, regions), regions,
            region_latency_matrix(c.sc.topology.region_latency_s, regions),
            c.sc.topology.edge_capacity),
        c.registry.get(), c.sc.topology.routing == routing_kind::region);
  }
  if (c.sc.protocol.mode == protocol_mode::sync) {
    sync_loop::parts parts{c.registry, build_sampler(c.parts, c.sc, *c.registry),
                           build_optimizer(c.parts, c.sc, dim), dim};
    if (c.on_checkpoint && !parts.pick->saves_state())
      throw std::invalid_argument(
          "checkpoints: the sampler cannot save its state (override sampler::save_state and "
          "load_state, or run without checkpoints)");
    p->sync = std::make_unique<sync_loop>(c.sc, std::move(parts), *p->edges, c.initial_model,
                                          c.edge_capacity);
    if (c.on_checkpoint)
      p->sync->checkpoint_every(
          mid_run_checkpoint_limit(c.sc) || !c.mid_run_checkpoints ? 0 : c.sc.checkpoint.every);
    if (!c.resume_state.empty())
      p->sync->load_state(decode_sync_state(c.resume_state, "checkpoint"));
  } else {
    async_loop::parts parts{c.registry, build_sampler(c.parts, c.sc, *c.registry),
                            build_optimizer(c.parts, c.sc, dim), build_weight(c.parts, c.sc), dim};
    if (c.on_checkpoint && !parts.pick->saves_state())
      throw std::invalid_argument(
          "checkpoints: the sampler cannot save its state (override sampler::save_state and "
          "load_state, or run without checkpoints)");
    p->async = std::make_unique<async_loop>(c.sc, std::move(parts), *p->edges, c.initial_model,
                                            c.edge_capacity);
    if (c.on_checkpoint)
      p->async->checkpoint_every(c.sc.checkpoint.every,
                                 !mid_run_checkpoint_limit(c.sc) && c.mid_run_checkpoints);
    if (!c.resume_state.empty())
      p->async->load_state(decode_async_state(c.resume_state, "checkpoint"));
  }
  return sys.spawn(idle, std::move(p));
}

}  // namespace fedactor
