#include "actors/server.hpp"

#include <algorithm>
#include <cmath>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errors.hpp"

namespace fedactor {

namespace {

using server_ptr = server_actor::stateful_pointer<server_state>;

constexpr size_t max_reported_failures = 8;

void start_round(server_ptr self);

void finish_round(server_ptr self) {
  auto& st = self->state;
  auto& rec = st.rec;
  if (!st.acc.empty()) {
    st.model = param_blob{apply_update(st.model.values(), st.acc, st.cfg.sc.protocol.server_lr)};
    ++st.version;
  }
  ++st.round;
  rec.round = st.round;
  rec.model_version = st.version;
  rec.clients = static_cast<uint32_t>(st.acc.count());
  rec.mean_loss = st.acc.empty() ? 0.0 : st.acc.scalar_mean();
  rec.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - st.started).count();
  rec.clients_per_s = rec.wall_s > 0 ? rec.clients / rec.wall_s : 0.0;
  st.report.clients_trained += rec.clients;
  st.report.failures += rec.failures;
  if (!st.acc.empty()) st.report.final_loss = rec.mean_loss;
  if (st.cfg.on_round) st.cfg.on_round(rec);
  if (st.round >= st.cfg.sc.protocol.rounds) {
    st.running = false;
    st.report.rounds = st.round;
    st.report.model_version = st.version;
    st.report.model = st.model;
    st.promise.deliver(st.report);
    return;
  }
  start_round(self);
}

void on_edge_done(server_ptr self) {
  if (--self->state.pending_edges == 0) finish_round(self);
}

void start_round(server_ptr self) {
  auto& st = self->state;
  const auto& sc = st.cfg.sc;
  st.started = std::chrono::steady_clock::now();
  st.rec = round_record{};
  st.acc = weighted_accumulator{st.model.size()};
  const uint32_t round = st.round + 1;
  auto ids = st.pick->sample(sc.selection.clients_per_round, static_cast<int32_t>(round));
  st.rec.selected = static_cast<uint32_t>(ids.size());
  // Group by edge: O(k + edges). Ids arrive ascending, so each group stays ascending.
  std::vector<std::vector<uint32_t>> groups(st.cfg.edges.size());
  for (auto id : ids) groups[st.route->edge_of(id)].push_back(id);
  size_t widest = 0;
  for (auto& g : groups) widest = std::max(widest, g.size());
  // An edge trains at most edge_capacity clients at a time, each within the client
  // timeout: its answer is due after that many waves, plus slack for messaging.
  const double waves = std::ceil(static_cast<double>(widest) / std::max(1u, st.cfg.edge_capacity));
  const auto edge_timeout = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(sc.training.timeout_s * std::max(1.0, waves) + 30.0));
  st.pending_edges = 0;
  for (size_t e = 0; e < groups.size(); ++e)
    if (!groups[e].empty()) ++st.pending_edges;
  if (st.pending_edges == 0) {
    finish_round(self);
    return;
  }
  for (size_t e = 0; e < groups.size(); ++e) {
    if (groups[e].empty()) continue;
    edge_ins ins;
    ins.round = round;
    ins.model_version = st.version;
    ins.seed = sc.seed;
    ins.model = st.model;
    ins.settings = train_settings{sc.training.epochs, sc.training.batch_size, sc.training.lr,
                                  sc.training.momentum};
    ins.client_timeout_s = sc.training.timeout_s;
    const auto count = static_cast<uint32_t>(groups[e].size());
    ins.clients = std::move(groups[e]);
    self->request(st.cfg.edges[e], edge_timeout, std::move(ins))
        .then(
            [=](edge_res& res) {
              auto& s = self->state;
              if (res.round != round || s.round + 1 != round) return;
              auto agg =
                  weighted_accumulator::deserialize(res.aggregate.data(), res.aggregate.size());
              if (!agg || !s.acc.merge(*agg)) {
                s.rec.failures += count;
                if (s.rec.failure_reasons.size() < max_reported_failures)
                  s.rec.failure_reasons.push_back("edge " + std::to_string(e) +
                                                  ": malformed aggregate");
              } else {
                s.rec.failures += res.failed;
                for (auto& f : res.failures)
                  if (s.rec.failure_reasons.size() < max_reported_failures)
                    s.rec.failure_reasons.push_back(std::move(f));
              }
              s.rec.live_clients += res.live_clients;
              s.rec.peak_live_clients += res.peak_live_clients;
              s.rec.evictions += res.evictions;
              on_edge_done(self);
            },
            [=](caf::error& err) {
              auto& s = self->state;
              if (s.round + 1 != round) return;
              s.rec.failures += count;
              if (s.rec.failure_reasons.size() < max_reported_failures)
                s.rec.failure_reasons.push_back("edge " + std::to_string(e) + ": " + describe(err));
              on_edge_done(self);
            });
  }
}

}  // namespace

std::vector<float> apply_update(const std::vector<float>& model, const weighted_accumulator& acc,
                                double server_lr) {
  if (acc.empty()) return model;
  auto mean = acc.mean();
  std::vector<float> out(model.size());
  for (size_t i = 0; i < model.size(); ++i)
    out[i] = static_cast<float>(static_cast<double>(model[i]) + server_lr * mean[i]);
  return out;
}

server_actor::behavior_type server(server_actor::stateful_pointer<server_state> self,
                                   server_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.model = param_blob{st.cfg.initial_model};
  st.pick = make_sampler(st.cfg.sc.selection.strategy, *st.cfg.registry, st.cfg.sc.seed);
  st.route = std::make_unique<router>(st.cfg.sc.topology.routing, st.cfg.registry->size(),
                                      static_cast<uint32_t>(st.cfg.edges.size()), st.cfg.sc.seed);
  return {
      [=](run_atom) -> caf::result<run_report> {
        auto& s = self->state;
        if (s.running) return make_error(errc::bad_request, "the server is already running");
        s.running = true;
        s.promise = self->make_response_promise<run_report>();
        auto rp = s.promise;
        start_round(self);
        return rp;
      },
  };
}

}  // namespace fedactor
