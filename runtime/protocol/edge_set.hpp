#pragma once

// The server's view of its edges: which are alive, which edge trains a client now, and what
// happens to a lost edge's clients (faults.on_edge_loss). Actor-free: the server shell tells
// it about losses (a down message, a request to a terminated edge) and returns (edge_rejoin);
// the sync and async loops ask it where each client goes.
//
// A lost edge's clients are rerouted to a survivor picked by client id (deterministic, and it
// spreads them evenly) or, under the drop policy, cannot be reached. Every edge has an
// incarnation that grows at each loss, so an answer from an earlier incarnation of an edge can
// be told apart from one sent after it came back.
//
// edge_for() is O(1); lose() and rejoin() are O(edges).
//
// Region routing (route_by_region): edge_for() asks the region_router instead (the
// least-loaded live edge of the client's region, spilling to the nearest region) and counts
// the task there; the loops call release() when a task ends. Under the drop policy a client
// whose region has no live edge cannot be reached; under reroute it goes to the nearest
// region. extra_latency_s() is the inter-region latency a task pays (0 when edges have no
// region).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/population/region_router.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/router.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class edge_set {
 public:
  // Throws std::invalid_argument for a null router.
  edge_set(std::unique_ptr<router> route, edge_loss_policy policy);

  uint32_t size() const { return static_cast<uint32_t>(alive_.size()); }
  bool alive(uint32_t e) const { return e < alive_.size() && alive_[e]; }
  // Ascending indices of the live edges.
  const std::vector<uint32_t>& alive_edges() const { return alive_list_; }
  uint32_t incarnation(uint32_t e) const { return incarnation_.at(e); }

  // The edge that serves `id` when every edge is alive.
  uint32_t home_of(uint32_t id) const { return route_->edge_of(id); }

  // The edge that trains `id` now: its home while alive; else, when rerouting, a survivor
  // (alive_edges()[id % alive]); nullopt when it cannot be reached (drop policy, or no edge
  // left).
  // With region routing: the region_router's choice, counted as one task on that edge.
  std::optional<uint32_t> edge_for(uint32_t id);
  // Whether edge_for(id) would find an edge (counts nothing).
  bool reachable(uint32_t id) const;
  // Whether `e` is not where `id` trains with every edge alive (region routing: `e` is
  // outside the client's region) -- a rerouted task.
  bool rerouted(uint32_t id, uint32_t e) const;

  // Region routing from now on: `reg` (which must outlive this) gives each client's region.
  // With `decide` false the edges only get regions (for extra_latency_s: topology.edge_regions
  // under range or hash routing) and the router keeps choosing.
  // Throws std::invalid_argument for a null router or one over another number of edges.
  void route_by_region(std::unique_ptr<region_router> regions, const client_registry* reg,
                       bool decide = true);
  // Whether edges have regions (extra_latency_s may be > 0).
  bool has_regions() const { return regions_ != nullptr; }
  // The region router when it decides (routing region), else null.
  const region_router* regions() const { return region_decides_ ? regions_.get() : nullptr; }
  // A task routed by edge_for to `e` ended (no-op without region routing).
  void release(uint32_t e) {
    if (regions_) regions_->release(e);
  }
  // Every task ended (a sync round starts; no-op without region routing).
  void release_all() {
    if (regions_) regions_->clear_all();
  }
  // One-way inter-region seconds between `id`'s region and edge `e`'s, times 2 (model down,
  // update up); 0 when edges have no region.
  double extra_latency_s(uint32_t id, uint32_t e) const;

  // Edge `e` is gone. False (nothing changes) when it was already lost or e is out of range.
  bool lose(uint32_t e);

  // Edge `e` is back. True when it had been lost (false: a new registration replaced a live
  // one, or e is out of range).
  bool rejoin(uint32_t e);

  edge_loss_policy policy() const { return policy_; }

 private:
  void update_alive_list();

  std::unique_ptr<router> route_;
  std::unique_ptr<region_router> regions_;
  bool region_decides_ = false;
  const client_registry* reg_ = nullptr;
  edge_loss_policy policy_;
  std::vector<bool> alive_;
  std::vector<uint32_t> alive_list_;
  std::vector<uint32_t> incarnation_;
};

}  // namespace fedactor
