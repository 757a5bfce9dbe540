// Checking a client host's batch answer against the edge's record.

#include "runtime/protocol/host_batch_check.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/math/accumulator.hpp"
#include "runtime/protocol/client_report.hpp"

namespace fedactor {

namespace {

uint64_t wire_size(size_t dim) {
  return 48 + 16 * static_cast<uint64_t>(dim);
}

}  // namespace

std::optional<std::string> host_batch_problem(const edge_report& rep,
                                              const host_batch_expectation& want) {
  if (rep.aggregate.size() != wire_size(want.dim))
    return "an aggregate of " + std::to_string(rep.aggregate.size()) + " bytes, expected " +
           std::to_string(wire_size(want.dim)) + " for " + std::to_string(want.dim) + " values";
  if (want.aux_dim == 0 ? !rep.aux_aggregate.empty()
                        : rep.aux_aggregate.size() != wire_size(want.aux_dim))
    return "an aux aggregate of " + std::to_string(rep.aux_aggregate.size()) + " bytes, expected " +
           std::to_string(want.aux_dim == 0 ? 0 : wire_size(want.aux_dim));
  auto agg = weighted_accumulator::deserialize(rep.aggregate.data(), rep.aggregate.size());
  if (!agg) return std::string{"a malformed aggregate"};
  auto reports = decode_client_reports(rep.reports.data(), rep.reports.size());
  if (!reports) return std::string{"malformed client reports"};
  if (reports->size() != agg->count())
    return std::to_string(reports->size()) + " client reports for an aggregate of " +
           std::to_string(agg->count()) + " updates";
  const auto& batch = *want.clients;
  weighted_accumulator expected(0);  // Σ samples and Σ samples·loss in the same fixed point
  size_t j = 0;
  for (size_t i = 0; i < reports->size(); ++i) {
    const auto& r = (*reports)[i];
    const std::string who = "client " + std::to_string(r.client);
    if (i > 0 && r.client <= (*reports)[i - 1].client)
      return "client reports not in ascending order of distinct clients (" + who + ")";
    while (j < batch.size() && batch[j] < r.client) ++j;
    if (j == batch.size() || batch[j] != r.client) return "a report for " + who + ", not sent";
    const uint32_t registry = want.samples_of(r.client);
    if (r.samples != registry)
      return who + " reported " + std::to_string(r.samples) + " samples, the registry holds " +
             std::to_string(registry);
    if (!std::isfinite(r.loss)) return who + " reported a loss that is not finite";
    if (!expected.add(nullptr, static_cast<double>(r.samples), r.loss))
      return who + ": samples x loss out of the accumulator's range";
  }
  if (agg->weight() != expected.weight())
    return "an aggregate of total weight " + std::to_string(agg->weight()) +
           ", its clients' samples sum to " + std::to_string(expected.weight());
  if (agg->scalar_sum() != expected.scalar_sum())
    return std::string{"an aggregate loss that is not its clients' reported losses"};
  return std::nullopt;
}

}  // namespace fedactor
