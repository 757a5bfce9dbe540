// Folding a middle edge's own part and its children's checked answers into one answer.

#include "runtime/protocol/subtree_fold.hpp"

#include <algorithm>
#include <cmath>

namespace fedactor {

namespace {

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

}  // namespace

subtree_fold::subtree_fold(uint32_t round, size_t dim, size_t aux_dim, bool clipped)
    : round_(round), acc_(dim), aux_dim_(aux_dim), clipped_(clipped), aux_(aux_dim) {}

void subtree_fold::note(const std::string& detail) {
  if (details_.size() < max_details) details_.push_back(detail);
}

void subtree_fold::add_figures(const edge_report& rep) {
  failed_.merge(rep.failed);
  for (auto& d : rep.details) note(d);
  norm_.merge(rep.norm);
  unclipped_ += rep.unclipped;
  live_ += rep.live_clients;
  peak_live_ += rep.peak_live_clients;
  evictions_ += rep.evictions;
  update_bytes_ += rep.update_bytes;
  updates_received_ += rep.updates_received;
}

void subtree_fold::fold_own(const edge_report& own, const result_refusal_counts& refused) {
  if (auto agg = weighted_accumulator::deserialize(own.aggregate.data(), own.aggregate.size());
      agg && agg->count() > 0)
    acc_.merge(*agg);
  if (aux_dim_ > 0)
    if (auto aux =
            weighted_accumulator::deserialize(own.aux_aggregate.data(), own.aux_aggregate.size());
        aux && aux->count() > 0)
      aux_.merge(*aux);
  if (auto reports = decode_client_reports(own.reports.data(), own.reports.size());
      reports && !clipped_)
    reports_.insert(reports_.end(), reports->begin(), reports->end());
  for (size_t i = 0; i < refused_.size(); ++i) refused_[i] += refused[i];
  add_figures(own);
}

std::optional<std::string> subtree_fold::fold_child(const std::string& who,
                                                    const std::vector<uint32_t>& clients,
                                                    const edge_report& rep,
                                                    const std::vector<uint32_t>& refused_wire) {
  const auto size = static_cast<uint64_t>(clients.size());
  auto agg = weighted_accumulator::deserialize(rep.aggregate.data(), rep.aggregate.size());
  std::optional<weighted_accumulator> aux;
  if (aux_dim_ > 0)
    aux = weighted_accumulator::deserialize(rep.aux_aggregate.data(), rep.aux_aggregate.size());
  uint64_t reported = 0;
  for (auto n : rep.failed.by_code) reported += n;
  auto refused = result_refusals_from_wire(refused_wire);
  uint64_t refused_total = 0;
  if (refused)
    for (auto n : *refused) refused_total += n;
  std::string wrong;
  if (rep.round != round_)
    wrong = "answered round " + std::to_string(rep.round) + " for round " + std::to_string(round_);
  else if (!agg)
    wrong = "malformed aggregate";
  else if (agg->count() > 0 && agg->dim() != acc_.dim())
    wrong = "aggregate of " + std::to_string(agg->dim()) + " values, the model has " +
            std::to_string(acc_.dim());
  else if (agg->count() + reported != size)
    wrong = "accounts for " + std::to_string(agg->count() + reported) + " of " +
            std::to_string(size) + " clients";
  else if (aux_dim_ > 0 &&
           (!aux || aux->count() != agg->count() || (aux->count() > 0 && aux->dim() != aux_dim_) ||
            aux->weight() != static_cast<double>(aux->count())))
    wrong = "aux aggregate that does not match its " + std::to_string(agg->count()) + " updates";
  else if (static_cast<uint64_t>(rep.norm.within) + rep.norm.clipped > agg->count() ||
           rep.norm.rejected > rep.failed.of(failure_code::invalid_update))
    wrong = "norm bound counts that do not fit its updates and failures";
  else if (rep.unclipped > agg->count())
    wrong = std::to_string(rep.unclipped) + " unclipped updates of " + std::to_string(agg->count());
  else if (!refused || refused_total > rep.failed.of(failure_code::invalid_update))
    wrong = "refused result counts that are not among its invalid updates";
  else if (rep.updates_received > size)
    wrong = std::to_string(rep.updates_received) + " updates received for " + std::to_string(size) +
            " clients";
  std::optional<std::vector<client_report>> reports;
  if (wrong.empty() && !clipped_ && !rep.reports.empty()) {
    reports = decode_client_reports(rep.reports.data(), rep.reports.size());
    if (!reports || !reports_fit(*reports, clients, agg->count()))
      wrong = "client reports that do not match its " + std::to_string(agg->count()) +
              " updates of the clients sent to it";
  }
  // Merged into copies first, so that a refusal leaves the fold untouched.
  std::optional<weighted_accumulator> acc_after, aux_after;
  if (wrong.empty() && agg->count() > 0) {
    acc_after = acc_;
    if (!acc_after->merge(*agg)) wrong = "aggregate whose sums overflow the round's";
  }
  if (wrong.empty() && aux && aux->count() > 0) {
    aux_after = aux_;
    if (!aux_after->merge(*aux)) wrong = "aux aggregate whose sums overflow the round's";
  }
  if (!wrong.empty()) {
    failed_.add(failure_code::invalid_update, static_cast<uint32_t>(size));
    const std::string line = who + ", round " + std::to_string(round_) + ": " + wrong;
    note(line);
    return line;
  }
  if (acc_after) acc_ = std::move(*acc_after);
  if (aux_after) aux_ = std::move(*aux_after);
  if (reports) reports_.insert(reports_.end(), reports->begin(), reports->end());
  for (size_t i = 0; i < refused_.size(); ++i) refused_[i] += (*refused)[i];
  add_figures(rep);
  return std::nullopt;
}

void subtree_fold::refuse(const std::string& line, size_t clients) {
  failed_.add(failure_code::invalid_update, static_cast<uint32_t>(clients));
  note(line + ", round " + std::to_string(round_));
}

edge_report subtree_fold::total() const {
  edge_report out;
  out.round = round_;
  out.aggregate = acc_.serialize();
  if (aux_dim_ > 0) out.aux_aggregate = aux_.serialize();
  out.failed = failed_;
  out.details = details_;
  out.live_clients = live_;
  out.peak_live_clients = peak_live_;
  out.evictions = evictions_;
  out.norm = norm_;
  out.unclipped = unclipped_;
  out.update_bytes = update_bytes_;
  out.updates_received = updates_received_;
  auto reports = reports_;
  std::sort(reports.begin(), reports.end(),
            [](const client_report& a, const client_report& b) { return a.client < b.client; });
  out.reports = encode_client_reports(reports);  // as edge_round's: the list, even empty
  return out;
}

}  // namespace fedactor
