#include "runtime/protocol/preaggregation.hpp"

namespace fedactor {

bool preaggregation::fold(uint64_t group, const group_member& m, const float* params,
                          const float* base_model, size_t values, double samples, double loss,
                          bool group_params) {
  auto& g = groups_[group];
  if (g.acc.dim() == 0 && g.members.empty()) g.acc = weighted_accumulator{values};
  const bool folded = g.acc.dim() == values &&
                      (group_params ? g.acc.add(params, samples, loss)
                                    : g.acc.add_difference(params, base_model, samples, loss));
  if (!folded) {
    ++g.failed;
    return false;
  }
  g.members.push_back(m);
  return true;
}

void preaggregation::fail(uint64_t group) {
  ++groups_[group].failed;
}

void preaggregation::close(uint64_t group, uint32_t size) {
  groups_[group].expected = size;
}

std::optional<complete_group> preaggregation::take_if_complete(uint64_t group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) return std::nullopt;
  auto& g = it->second;
  if (g.expected == 0 || g.members.size() + g.failed < g.expected) return std::nullopt;
  complete_group out;
  out.id = group;
  out.members = std::move(g.members);
  out.aggregate = g.acc.serialize();
  groups_.erase(it);
  if (out.members.empty()) return std::nullopt;
  for (size_t i = 1; i < out.members.size(); ++i) {
    const auto& a = out.members[i];
    const auto& b = out.members[out.carrier];
    if (a.finish > b.finish || (a.finish == b.finish && a.seq > b.seq)) out.carrier = i;
  }
  return out;
}

}  // namespace fedactor
