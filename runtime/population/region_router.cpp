#include "runtime/population/region_router.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace fedactor {

std::vector<double> region_latency_matrix(const std::vector<double>& given, uint32_t regions) {
  if (!given.empty()) return given;
  std::vector<double> m(static_cast<size_t>(regions) * regions);
  for (uint32_t a = 0; a < regions; ++a)
    for (uint32_t b = 0; b < regions; ++b)
      m[static_cast<size_t>(a) * regions + b] =
          a == b ? 0.01 : 0.1 * static_cast<double>(a > b ? a - b : b - a);
  return m;
}

std::vector<uint32_t> edge_region_list(const std::vector<uint32_t>& given, uint32_t edges,
                                       uint32_t regions) {
  if (!given.empty()) return given;
  std::vector<uint32_t> r(edges);
  for (uint32_t e = 0; e < edges; ++e)
    r[e] = static_cast<uint32_t>(uint64_t{e} * regions / std::max(1u, edges));
  return r;
}

region_router::region_router(std::vector<uint32_t> edge_regions, uint32_t regions,
                             std::vector<double> latency_s, uint32_t capacity)
    : edge_region_(std::move(edge_regions)),
      by_region_(regions),
      latency_(std::move(latency_s)),
      load_(edge_region_.size(), 0),
      capacity_(capacity) {
  if (edge_region_.empty()) throw std::invalid_argument("region routing needs at least one edge");
  if (regions == 0) throw std::invalid_argument("region routing needs at least one region");
  if (latency_.size() != static_cast<size_t>(regions) * regions)
    throw std::invalid_argument("topology.region_latency_s: needs " +
                                std::to_string(uint64_t{regions} * regions) + " entries, got " +
                                std::to_string(latency_.size()));
  for (uint32_t e = 0; e < edge_region_.size(); ++e) {
    if (edge_region_[e] >= regions)
      throw std::invalid_argument("topology.edge_regions[" + std::to_string(e) + "]: region " +
                                  std::to_string(edge_region_[e]) + " >= population.regions (" +
                                  std::to_string(regions) + ")");
    by_region_[edge_region_[e]].push_back(e);
  }
  nearest_.resize(regions);
  for (uint32_t r = 0; r < regions; ++r) {
    auto& order = nearest_[r];
    for (uint32_t q = 0; q < regions; ++q)
      if (q != r) order.push_back(q);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return this->latency_s(r, a) < this->latency_s(r, b);
    });
    order.insert(order.begin(), r);
  }
}

std::optional<uint32_t> region_router::least_loaded(uint32_t region,
                                                    const std::vector<bool>& alive) const {
  std::optional<uint32_t> best;
  for (uint32_t e : by_region_[region])
    if (e < alive.size() && alive[e] && (!best || load_[e] < load_[*best])) best = e;
  return best;
}

std::optional<uint32_t> region_router::peek(uint32_t r, const std::vector<bool>& alive,
                                            bool own_region_only) const {
  r %= regions();
  std::optional<uint32_t> fallback;
  for (uint32_t q : nearest_[r]) {
    if (own_region_only && q != r) break;
    auto e = least_loaded(q, alive);
    if (!e) continue;
    if (capacity_ == 0 || load_[*e] < capacity_) return e;
    if (!fallback) fallback = e;
  }
  return fallback;
}

std::optional<uint32_t> region_router::route(uint32_t r, const std::vector<bool>& alive,
                                             bool own_region_only) {
  auto e = peek(r, alive, own_region_only);
  if (!e) return e;
  ++load_[*e];
  if (edge_region_[*e] != r % regions()) ++spilled_;
  return e;
}

void region_router::release(uint32_t e) {
  if (e < load_.size() && load_[e] > 0) --load_[e];
}

void region_router::clear(uint32_t e) {
  if (e < load_.size()) load_[e] = 0;
}

void region_router::clear_all() {
  std::fill(load_.begin(), load_.end(), 0);
}

}  // namespace fedactor
