// Host aggregation at the edge actor: a sync round's clients on a client host sent to it in
// one batch, its answer checked and folded as a child edge's.

#include "actors/edge_host_batch.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/protocol/failure.hpp"
#include "runtime/protocol/host_aggregation.hpp"
#include "runtime/protocol/host_batch_check.hpp"

namespace fedactor::edge_detail {

namespace {

// A client host's answer to its batch as the report a parent reads: the figures of the edge
// that is asked (live clients) left out, the update traffic being the answer's own bytes.
edge_report host_report(edge_res& res, const failure_counts& failed, size_t clients) {
  edge_report rep;
  rep.round = res.round;
  rep.update_bytes = res.aggregate.size() + res.aux_aggregate.size() + res.reports.size();
  rep.aggregate = std::move(res.aggregate);
  rep.aux_aggregate = std::move(res.aux_aggregate);
  rep.failed = failed;
  rep.details = std::move(res.failures);
  rep.norm = norm_bound_counts{res.norm_within, res.norm_clipped, res.norm_rejected};
  rep.unclipped = res.unclipped;
  uint64_t failures = 0;
  for (auto n : failed.by_code) failures += n;
  rep.updates_received = static_cast<uint32_t>(clients - std::min<uint64_t>(clients, failures));
  rep.reports = std::move(res.reports);
  return rep;
}

}  // namespace

// Whether this round's clients on client hosts go to them in batches (host aggregation); the
// reason it does not is logged once (until it changes).
bool by_host(edge_ptr self, const edge_ins& ins) {
  auto& st = self->state;
  if (!st.cfg.batches) return false;
  auto off = host_aggregation_off(st.cfg.host_aggregation, ins.robust, ins.clip, st.cfg.attack);
  if (!off) return true;
  if (*off != st.aggregation_off && st.cfg.log)
    st.cfg.log("host aggregation off: " + *off + "; client hosts send one update per client");
  st.aggregation_off = *off;
  return false;
}

// Sends a client host its clients `ids` of the round in progress as one batch (host
// aggregation); its answer is checked, then folded as a child edge's.
void send_batch(edge_ptr self, const batch_actor& host, std::vector<uint32_t> ids) {
  auto& st = self->state;
  edge_ins sub = *st.round_ins;
  sub.clients = ids;
  const uint32_t round = sub.round;
  const auto dest = host.address();
  // Beyond the link's own bound (actors/edge_node.cpp), which answers first.
  const auto timeout = seconds(sub.client_timeout_s * static_cast<double>(ids.size()) + 60);
  st.parts.push_back(edge_state::child_part{0, dest, std::move(ids), true});
  auto find_part = [=](edge_state& s) {
    return std::find_if(s.parts.begin(), s.parts.end(),
                        [&](const auto& p) { return p.edge == dest && p.host; });
  };
  self->request(host, timeout, std::move(sub))
      .then(
          [=](edge_res& res) {
            auto& s = self->state;
            if (!s.round || s.round->round() != round || !s.tree) return;
            auto it = find_part(s);
            if (it == s.parts.end()) return;
            const auto& clients = it->clients;
            std::optional<std::string> wrong;
            auto failed = failure_counts::from_wire(res.failed_by);
            if (!failed) {
              wrong = "failure counts of " + std::to_string(res.failed_by.size()) + " codes";
              s.tree->refuse("client host: " + *wrong, clients.size());
            } else {
              auto rep = host_report(res, *failed, clients.size());
              const auto& cfg = s.cfg;
              wrong = host_batch_problem(
                  rep, host_batch_expectation{
                           s.round->model()->size(), s.round_ins->aux.size(), &clients,
                           [&cfg](uint32_t id) { return cfg.data->num_samples(id); }});
              if (wrong)
                s.tree->refuse("client host: " + *wrong, clients.size());
              else
                wrong = s.tree->fold_child("client host", clients, rep, res.refused_results);
            }
            if (wrong && s.cfg.on_batch_refusal) s.cfg.on_batch_refusal(dest, *wrong);
            s.parts.erase(it);
            finish_round_if_done(self);
          },
          [=](caf::error& err) {
            auto& s = self->state;
            if (!s.round || s.round->round() != round) return;
            auto it = find_part(s);
            if (it == s.parts.end()) return;
            // The batch's clients fail as their tasks would one by one (host lost, timeout).
            auto ids = std::move(it->clients);
            s.parts.erase(it);
            s.round->expect_more(ids.size());
            const auto code = failure_code_of(err);
            const auto reason = describe(err);
            for (auto id : ids) s.round->fail(id, code, reason);
            finish_round_if_done(self);
          });
}

}  // namespace fedactor::edge_detail
