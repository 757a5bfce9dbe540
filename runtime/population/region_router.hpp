#pragma once

// Region-aware routing with load balancing (topology.routing region, docs/topology.md):
// edges belong to regions, and a client goes to the least-loaded live edge of its own region;
// when every live edge there holds `capacity` tasks or more it spills to the nearest region
// (by one-way latency, ties to the lower region) that has a live edge under capacity; when
// no live edge anywhere is under capacity it queues on the least-loaded live edge of the
// nearest region that still has one. A region whose edges are all lost sends its clients to
// the nearest region the same way.
//
// Load = tasks routed to an edge and not yet released (queued or in flight). The counts live
// here and change by one per route / release, O(1). route() looks at the edges of the regions
// it walks: the client's own region alone unless it spills, so O(edges per region), a small
// constant, per client (and never O(population)). Deterministic: ties go to the lower edge.

#include <cstdint>
#include <optional>
#include <vector>

namespace fedactor {

// The latency matrix: `given` (regions x regions, row-major, one-way seconds) or, empty, the
// default 0.01 s within a region and 0.1 s x |a - b| between regions a and b.
std::vector<double> region_latency_matrix(const std::vector<double>& given, uint32_t regions);

// The region of every edge: `given` or, empty, edge e in region floor(e * regions / edges).
std::vector<uint32_t> edge_region_list(const std::vector<uint32_t>& given, uint32_t edges,
                                       uint32_t regions);

class region_router {
 public:
  // Throws std::invalid_argument for no edge, regions == 0, an edge region >= regions or a
  // latency matrix that is not regions x regions.
  region_router(std::vector<uint32_t> edge_regions, uint32_t regions, std::vector<double> latency_s,
                uint32_t capacity);

  uint32_t edges() const { return static_cast<uint32_t>(edge_region_.size()); }
  uint32_t regions() const { return static_cast<uint32_t>(by_region_.size()); }
  uint32_t region_of_edge(uint32_t e) const { return edge_region_.at(e); }
  uint32_t capacity() const { return capacity_; }
  double latency_s(uint32_t from, uint32_t to) const { return latency_[from * regions() + to]; }
  // Regions in the order a client of `r` tries them: r first, then by latency from r.
  const std::vector<uint32_t>& nearest(uint32_t r) const { return nearest_.at(r); }

  // The edge for a client of region `r` (>= regions() is treated as region r % regions()),
  // given which edges are alive; nullopt when none is. With `own_region_only`, only r's
  // edges are considered (then nullopt when none of them is alive). Counts one task on the
  // chosen edge.
  std::optional<uint32_t> route(uint32_t r, const std::vector<bool>& alive,
                                bool own_region_only = false);
  // Where route() would send the client, without counting it.
  std::optional<uint32_t> peek(uint32_t r, const std::vector<bool>& alive,
                               bool own_region_only = false) const;

  // One task on edge `e` ended (answered, failed, cancelled). Saturates at 0.
  void release(uint32_t e);
  // Every task on `e` is gone (the edge was lost).
  void clear(uint32_t e);
  // Every task everywhere is gone (a sync round starts).
  void clear_all();
  uint64_t load(uint32_t e) const { return load_.at(e); }
  // Tasks that went to an edge outside the client's region (spills and region losses).
  uint64_t spilled() const { return spilled_; }

 private:
  std::optional<uint32_t> least_loaded(uint32_t region, const std::vector<bool>& alive) const;

  std::vector<uint32_t> edge_region_;
  std::vector<std::vector<uint32_t>> by_region_;  // ascending edges of each region
  std::vector<std::vector<uint32_t>> nearest_;
  std::vector<double> latency_;
  std::vector<uint64_t> load_;
  uint32_t capacity_;
  uint64_t spilled_ = 0;
};

}  // namespace fedactor
