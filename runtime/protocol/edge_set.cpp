#include "runtime/protocol/edge_set.hpp"

#include <stdexcept>
#include <string>

namespace fedactor {

edge_set::edge_set(std::unique_ptr<router> route, edge_loss_policy policy)
    : route_(std::move(route)), policy_(policy) {
  if (!route_) throw std::invalid_argument("edge_set needs a router");
  alive_.assign(route_->edges(), true);
  incarnation_.assign(route_->edges(), 0);
  update_alive_list();
}

void edge_set::route_by_region(std::unique_ptr<region_router> regions, const client_registry* reg,
                               bool decide) {
  if (!regions || !reg) throw std::invalid_argument("region routing needs a router and a registry");
  if (regions->edges() != size())
    throw std::invalid_argument("region routing over " + std::to_string(regions->edges()) +
                                " edges, the topology has " + std::to_string(size()));
  regions_ = std::move(regions);
  reg_ = reg;
  region_decides_ = decide;
}

std::optional<uint32_t> edge_set::edge_for(uint32_t id) {
  if (region_decides_)
    return regions_->route(reg_->region(id), alive_, policy_ != edge_loss_policy::reroute);
  const uint32_t home = route_->edge_of(id);
  if (alive_[home]) return home;
  if (policy_ != edge_loss_policy::reroute || alive_list_.empty()) return std::nullopt;
  return alive_list_[id % alive_list_.size()];
}

bool edge_set::reachable(uint32_t id) const {
  if (region_decides_)
    return regions_->peek(reg_->region(id), alive_, policy_ != edge_loss_policy::reroute)
        .has_value();
  if (alive_[route_->edge_of(id)]) return true;
  return policy_ == edge_loss_policy::reroute && !alive_list_.empty();
}

bool edge_set::rerouted(uint32_t id, uint32_t e) const {
  if (region_decides_) return regions_->region_of_edge(e) != reg_->region(id) % regions_->regions();
  return e != route_->edge_of(id);
}

double edge_set::extra_latency_s(uint32_t id, uint32_t e) const {
  if (!regions_) return 0;
  const uint32_t r = reg_->region(id) % regions_->regions();
  return 2 * regions_->latency_s(r, regions_->region_of_edge(e));
}

bool edge_set::lose(uint32_t e) {
  if (!alive(e)) return false;
  alive_[e] = false;
  if (regions_) regions_->clear(e);
  ++incarnation_[e];
  update_alive_list();
  return true;
}

bool edge_set::rejoin(uint32_t e) {
  if (e >= alive_.size()) return false;
  const bool was_lost = !alive_[e];
  alive_[e] = true;
  update_alive_list();
  return was_lost;
}

void edge_set::update_alive_list() {
  alive_list_.clear();
  for (uint32_t e = 0; e < alive_.size(); ++e)
    if (alive_[e]) alive_list_.push_back(e);
}

}  // namespace fedactor
