#include "runtime/protocol/edge_set.hpp"

#include <stdexcept>

namespace fedactor {

edge_set::edge_set(std::unique_ptr<router> route, edge_loss_policy policy)
    : route_(std::move(route)), policy_(policy) {
  if (!route_) throw std::invalid_argument("edge_set needs a router");
  alive_.assign(route_->edges(), true);
  incarnation_.assign(route_->edges(), 0);
  update_alive_list();
}

std::optional<uint32_t> edge_set::edge_for(uint32_t id) const {
  const uint32_t home = route_->edge_of(id);
  if (alive_[home]) return home;
  if (policy_ != edge_loss_policy::reroute || alive_list_.empty()) return std::nullopt;
  return alive_list_[id % alive_list_.size()];
}

bool edge_set::lose(uint32_t e) {
  if (!alive(e)) return false;
  alive_[e] = false;
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
