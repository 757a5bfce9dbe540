// Async tasks at the edge actor: the model resolved, the task queued for a slot, its result
// forwarded or folded into its group.

#include "actors/edge_async_tasks.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/host/model_cache.hpp"
#include "runtime/protocol/preaggregation.hpp"
#include "runtime/protocol/result_refusals.hpp"

namespace fedactor::edge_detail {

// Answers every member of a complete group: the carrier with the aggregate, the others held.
void flush_if_complete(edge_ptr self, uint64_t group) {
  auto& st = self->state;
  auto g = st.groups.take_if_complete(group);
  if (!g) return;
  uint64_t bytes = 0;
  if (auto b = st.group_bytes.find(group); b != st.group_bytes.end()) {
    bytes = b->second;
    st.group_bytes.erase(b);
  }
  std::vector<uint64_t> seqs;
  for (auto& m : g->members) seqs.push_back(m.seq);
  for (size_t i = 0; i < g->members.size(); ++i) {
    const auto& m = g->members[i];
    auto p = st.members.find(m.seq);
    if (p == st.members.end()) continue;
    async_res res;
    res.seq = m.seq;
    res.client = m.client;
    if (i == g->carrier)
      res.outcome = async_group{std::move(g->aggregate), seqs, bytes};
    else
      res.outcome = async_held{};
    p->second.deliver(std::move(res));
    st.members.erase(p);
  }
}

namespace {

// An async task's model: as it came when it carries no digest (a server in this process), else
// the carried model checked against its digest and cached, or the cached model its reference
// names; an error when none of these holds (model_missing: the server sends the model again).
caf::error resolve_model(edge_ptr self, async_ins& ins) {
  auto& st = self->state;
  const std::string what = "edge " + std::to_string(st.cfg.id) + ": task " +
                           std::to_string(ins.seq) + " of model version " +
                           std::to_string(ins.base_version);
  if (ins.model_digest.empty()) {
    if (ins.model_by_reference)
      return make_error(errc::bad_request, what + ": a reference without a digest");
    return caf::none;
  }
  if (ins.model_digest.size() != 64)
    return make_error(errc::bad_request, what + ": a model digest of " +
                                             std::to_string(ins.model_digest.size()) +
                                             " characters, expected 64");
  switch (
      st.models.resolve(ins.base_version, ins.model, ins.model_digest, ins.model_by_reference)) {
    case model_resolution::resolved:
      return caf::none;
    case model_resolution::digest_mismatch:
      return make_error(errc::bad_request, what + ": the model does not match its digest");
    case model_resolution::refers_and_carries:
      return make_error(errc::bad_request, what + ": both refers to and carries a model");
    case model_resolution::missing:
      break;
  }
  return make_error(errc::model_missing, what + ": no model held with digest " + ins.model_digest);
}

}  // namespace

caf::result<async_res> start_task(edge_ptr self, async_ins& ins) {
  auto& st = self->state;
  if (auto refused = outside_population(st.cfg, ins.client)) return *refused;
  if (auto err = resolve_model(self, ins)) return err;
  if (auto bad = compression_settings_problem(ins.settings.compression))
    return make_error(errc::bad_request,
                      "edge " + std::to_string(st.cfg.id) + ": compression refused: " + *bad);
  auto rp = self->make_response_promise<async_res>();
  train_ins task;
  task.round = static_cast<uint32_t>(ins.seq);
  task.client = ins.client;
  task.model_version = ins.base_version;
  task.task_seed = ins.task_seed;
  task.model = ins.model;
  task.settings = ins.settings;
  task.timeout_s = ins.timeout_s;
  const uint64_t seq = ins.seq, group = ins.group;
  const uint32_t client = ins.client;
  const bool group_params = ins.group_params;
  const double finish = ins.finish;
  auto base_model = ins.model;
  st.slots.push(
      job{std::move(task), [=](train_res* r, failure_code code, const std::string& failure,
                               uint64_t bytes, std::optional<result_refusal> refused) mutable {
            auto& s = self->state;
            // A result this edge refused is answered with its reason, for the server to count.
            auto answer_refused = [&] {
              async_res res;
              res.seq = seq;
              res.client = client;
              res.outcome = async_refused{static_cast<uint8_t>(*refused),
                                          "client " + std::to_string(client) + ": " + failure};
              rp.deliver(std::move(res));
            };
            if (group == 0) {  // forward
              if (!r && refused) {
                answer_refused();
                return;
              }
              if (!r) {
                rp.deliver(make_failure(code, "client " + std::to_string(client) + ": " + failure));
                return;
              }
              async_res res;
              res.seq = seq;
              res.client = client;
              // A compressed update goes on as it came (checked here, decoded again by the server).
              if (r->update.empty())
                res.outcome = async_update{r->num_samples, r->loss, std::move(r->params), {}};
              else
                res.outcome = async_update{r->num_samples, r->loss, {}, std::move(r->update)};
              rp.deliver(std::move(res));
              return;
            }
            std::string reason = failure;
            failure_code why = code;
            bool folded = false;
            if (r) {
              folded = s.groups.fold(group, group_member{seq, client, finish}, r->params.data(),
                                     base_model.data(), r->params.size(), r->num_samples, r->loss,
                                     group_params);
              if (folded) s.group_bytes[group] += bytes;
              if (!folded) {
                reason = "rejected update: values out of range";
                why = failure_code::invalid_update;
              }
            } else {
              s.groups.fail(group);
            }
            if (folded) {
              s.members.emplace(seq, rp);
            } else if (!r && refused) {
              answer_refused();
            } else {
              rp.deliver(make_failure(why, "client " + std::to_string(client) + ": " + reason));
            }
            flush_if_complete(self, group);
          }});
  pump(self);
  return rp;
}

}  // namespace fedactor::edge_detail
