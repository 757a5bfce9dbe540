#include "runtime/protocol/sync_round.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <utility>

namespace fedactor {

namespace {

// Why an edge's aggregate is not `count` updates clipped to `clip`, weight 1 each; "" if it
// may be.
// `reports` are `count` reports for distinct clients of `batch` (both ascending).
bool reports_fit(const std::vector<client_report>& reports, const std::vector<uint32_t>& batch,
                 uint64_t count) {
  if (reports.size() != count) return false;
  size_t j = 0;
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i > 0 && reports[i].client <= reports[i - 1].client) return false;
    while (j < batch.size() && batch[j] < reports[i].client) ++j;
    if (j == batch.size() || batch[j] != reports[i].client) return false;
    if (!(reports[i].sq_norm >= 0) || !std::isfinite(reports[i].sq_norm)) return false;
  }
  return true;
}

std::string not_clipped(const weighted_accumulator& agg, uint32_t unclipped, double clip) {
  const auto n = agg.count();
  if (unclipped > n)
    return std::to_string(unclipped) + " unclipped updates of " + std::to_string(n);
  if (agg.weight() != static_cast<double>(n))
    return "weights that are not 1 per update (clipping needs weight 1)";
  std::vector<double> sum(agg.dim());
  agg.sum_into(sum.data());
  double sq = 0;
  for (double v : sum) sq += v * v;
  const double norm = std::sqrt(sq), most = static_cast<double>(n) * clip;
  // Each update is clipped in double and rounded to float (relative 2^-24), then each value
  // rounded to fixed point (at most 2^-33 each): 1e-6 relative plus n·sqrt(dim)·2^-32 cover it.
  const double slack = static_cast<double>(n) * std::sqrt(static_cast<double>(agg.dim())) * 0x1p-32;
  if (!(norm <= most * (1 + 1e-6) + slack)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "an aggregate of norm %.9g above %llu updates clipped to %.9g",
                  norm, static_cast<unsigned long long>(n), clip);
    return buf;
  }
  return "";
}

}  // namespace

sync_round::sync_round(uint32_t round, size_t dim, edge_set& edges, size_t aux_dim)
    : round_(round),
      edges_(edges),
      acc_(dim),
      aux_(aux_dim),
      in_flight_(edges.size(), 0),
      backlog_(edges.size()),
      next_id_((static_cast<uint64_t>(round) << 32) + 1) {
  rec_.round = round;
  rec_.edge_load.resize(edges.size());
}

const edge_batch* sync_round::batch(uint64_t id) const {
  auto it = batches_.find(id);
  return it == batches_.end() ? nullptr : &it->second;
}

void sync_round::note(const std::string& detail) {
  if (rec_.failure_reasons.size() < max_details) rec_.failure_reasons.push_back(detail);
}

void sync_round::fail_client(uint32_t client, failure_code code, const std::string& detail) {
  rec_.failures_by.add(code);
  note("client " + std::to_string(client) + ": " + detail);
}

std::vector<edge_batch> sync_round::add_batch(uint32_t e, std::vector<uint32_t> clients) {
  const uint64_t id = next_id_++;
  auto& b = batches_.emplace(id, edge_batch{id, e, std::move(clients)}).first->second;
  if (in_flight_[e] != 0) {
    backlog_[e].push_back(id);
    return {};
  }
  in_flight_[e] = id;
  return {b};
}

std::vector<edge_batch> sync_round::assign(const std::vector<uint32_t>& ids) {
  std::vector<std::optional<uint32_t>> routed;
  routed.reserve(ids.size());
  for (auto id : ids) routed.push_back(edges_.edge_for(id));
  return assign(ids, routed);
}

std::vector<edge_batch> sync_round::assign(const std::vector<uint32_t>& ids,
                                           const std::vector<std::optional<uint32_t>>& routed) {
  std::vector<std::vector<uint32_t>> groups(edges_.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint32_t id = ids[i];
    const auto& e = routed.at(i);
    if (!e) {
      fail_client(id, failure_code::edge_lost,
                  "edge " + std::to_string(edges_.home_of(id)) + " lost");
      continue;
    }
    if (edges_.rerouted(id, *e)) ++rec_.rerouted;
    groups[*e].push_back(id);
  }
  std::vector<edge_batch> send;
  for (uint32_t e = 0; e < groups.size(); ++e) {
    if (groups[e].empty()) continue;
    for (auto& b : add_batch(e, std::move(groups[e]))) send.push_back(std::move(b));
  }
  return send;
}

std::vector<edge_batch> sync_round::done(uint64_t id) {
  auto it = batches_.find(id);
  if (it == batches_.end()) return {};
  const uint32_t e = it->second.edge;
  batches_.erase(it);
  if (in_flight_[e] != id) return {};
  in_flight_[e] = 0;
  if (backlog_[e].empty()) return {};
  const uint64_t next = backlog_[e].front();
  backlog_[e].pop_front();
  in_flight_[e] = next;
  return {batches_.at(next)};
}

std::vector<edge_batch> sync_round::answered(uint64_t id, edge_report rep) {
  auto it = batches_.find(id);
  // Only a batch that was sent can be answered (one queued behind its edge was not).
  if (it == batches_.end() || in_flight_[it->second.edge] != id) return {};
  const auto& b = it->second;
  const auto size = static_cast<uint64_t>(b.clients.size());
  auto agg = weighted_accumulator::deserialize(rep.aggregate.data(), rep.aggregate.size());
  std::optional<weighted_accumulator> aux;
  if (aux_.dim() > 0)
    aux = weighted_accumulator::deserialize(rep.aux_aggregate.data(), rep.aux_aggregate.size());
  // Every code the edge reports, summed in 64 bits: a 32-bit sum (failure_counts::total) could
  // wrap around to the batch size, and stale is no sync failure, so counts of it cannot fit.
  uint64_t reported = 0;
  for (auto n : rep.failed.by_code) reported += n;
  std::string wrong;
  answer_refusal why = answer_refusal::wrong_round;
  auto refuse = [&](answer_refusal r, std::string text) {
    why = r;
    wrong = std::move(text);
  };
  if (rep.round != round_)
    refuse(answer_refusal::wrong_round,
           "answered round " + std::to_string(rep.round) + " for round " + std::to_string(round_));
  else if (!agg)
    refuse(answer_refusal::malformed_aggregate, "malformed aggregate");
  else if (agg->count() > 0 && agg->dim() != acc_.dim())
    refuse(answer_refusal::wrong_dimension, "aggregate of " + std::to_string(agg->dim()) +
                                                " values, the model has " +
                                                std::to_string(acc_.dim()));
  else if (agg->count() + reported != size)
    refuse(answer_refusal::wrong_count, "accounts for " + std::to_string(agg->count() + reported) +
                                            " of " + std::to_string(size) + " clients");
  else if (aux_.dim() > 0 && (!aux || aux->count() != agg->count() ||
                              (aux->count() > 0 && aux->dim() != aux_.dim()) ||
                              aux->weight() != static_cast<double>(aux->count())))
    refuse(answer_refusal::aux_mismatch,
           "aux aggregate that does not match its " + std::to_string(agg->count()) + " updates");
  else if (static_cast<uint64_t>(rep.norm.within) + rep.norm.clipped > agg->count() ||
           rep.norm.rejected > rep.failed.of(failure_code::invalid_update))
    refuse(answer_refusal::norm_counts,
           "norm bound counts that do not fit its updates and failures");
  else if (clip_ > 0)
    refuse(answer_refusal::not_clipped, not_clipped(*agg, rep.unclipped, clip_));
  // Client reports, when sent, must be one per update, for distinct clients of the batch
  // (ascending). None sent: the sampler learns nothing from this batch.
  std::optional<std::vector<client_report>> reports;
  if (wrong.empty() && clip_ <= 0 && !rep.reports.empty()) {
    reports = decode_client_reports(rep.reports.data(), rep.reports.size());
    if (!reports || !reports_fit(*reports, b.clients, agg->count()))
      refuse(answer_refusal::wrong_count, "client reports that do not match its " +
                                              std::to_string(agg->count()) +
                                              " updates of the batch's clients");
  }
  // An edge's sums may be anything: merges that would overflow refuse the answer whole (the
  // aux sums are merged into a copy first, so that a refusal leaves both untouched).
  std::optional<weighted_accumulator> aux_after;
  if (wrong.empty() && aux && aux->count() > 0) {
    aux_after = aux_;
    if (!aux_after->merge(*aux))
      refuse(answer_refusal::overflow, "aggregate whose sums overflow the round's");
  }
  if (wrong.empty() && agg->count() > 0 && !acc_.merge(*agg))
    refuse(answer_refusal::overflow, "aggregate whose sums overflow the round's");
  if (!wrong.empty()) {
    rec_.failures_by.add(failure_code::invalid_update, static_cast<uint32_t>(size));
    rec_.edge_load[b.edge].failed += static_cast<uint32_t>(size);
    note("edge " + std::to_string(b.edge) + ": " + wrong);
    count_answer_refusal(why);
    refusals_.push_back("edge " + std::to_string(b.edge) + ", round " + std::to_string(round_) +
                        ": " + wrong + " (" + to_string(why) + ")");
  } else {
    if (aux_after) aux_ = std::move(*aux_after);
    rec_.edge_load[b.edge].updates += static_cast<uint32_t>(agg->count());
    rec_.edge_load[b.edge].failed += static_cast<uint32_t>(size - agg->count());
    rec_.failures_by.merge(rep.failed);
    for (auto& d : rep.details) note(d);
    rec_.live_clients += rep.live_clients;
    rec_.peak_live_clients += rep.peak_live_clients;
    rec_.evictions += rep.evictions;
    norm_.merge(rep.norm);
    unclipped_ += rep.unclipped;
    // A traffic figure, not a result: counted when it fits the batch, else left out.
    if (rep.updates_received <= size) {
      rec_.update_bytes_up += rep.update_bytes;
      rec_.updates_up += rep.updates_received;
    }
    if (reports) reports_.insert(reports_.end(), reports->begin(), reports->end());
  }
  return done(id);
}

std::vector<edge_batch> sync_round::refused(uint64_t id, answer_refusal why,
                                            const std::string& detail) {
  auto it = batches_.find(id);
  if (it == batches_.end() || in_flight_[it->second.edge] != id) return {};
  count_answer_refusal(why);
  refusals_.push_back("edge " + std::to_string(it->second.edge) + ", round " +
                      std::to_string(round_) + ": " + detail + " (" + to_string(why) + ")");
  return failed(id, failure_code::invalid_update, detail);
}

std::vector<std::string> sync_round::take_refusals() {
  return std::exchange(refusals_, {});
}

std::vector<edge_batch> sync_round::failed(uint64_t id, failure_code code,
                                           const std::string& detail) {
  auto it = batches_.find(id);
  if (it == batches_.end() || in_flight_[it->second.edge] != id) return {};
  rec_.failures_by.add(code, static_cast<uint32_t>(it->second.clients.size()));
  rec_.edge_load[it->second.edge].failed += static_cast<uint32_t>(it->second.clients.size());
  note("edge " + std::to_string(it->second.edge) + ": " + detail);
  return done(id);
}

std::vector<edge_batch> sync_round::edge_lost(uint32_t e) {
  ++rec_.edges_lost;
  // The batch it was training fails there (its clients go elsewhere); the ones queued behind
  // it had not been dispatched.
  if (e < in_flight_.size() && in_flight_[e] != 0)
    rec_.edge_load[e].failed += static_cast<uint32_t>(batches_.at(in_flight_[e]).clients.size());
  std::vector<uint32_t> orphaned;
  for (auto it = batches_.begin(); it != batches_.end();) {
    if (it->second.edge != e) {
      ++it;
      continue;
    }
    orphaned.insert(orphaned.end(), it->second.clients.begin(), it->second.clients.end());
    it = batches_.erase(it);
  }
  if (e < in_flight_.size()) {
    in_flight_[e] = 0;
    backlog_[e].clear();
  }
  std::sort(orphaned.begin(), orphaned.end());
  return assign(orphaned);
}

}  // namespace fedactor
