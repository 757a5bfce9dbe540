// The bounded live set of client actors with least-recently-used eviction.

#include "actors/live_clients.hpp"

#include <algorithm>

namespace fedactor {

std::optional<client_actor> live_clients::checkout(uint32_t id) {
  auto it = live_.find(id);
  if (it == live_.end()) return std::nullopt;
  if (it->second.busy == 0) idle_lru_.erase(it->second.lru_pos);
  ++it->second.busy;
  return it->second.handle;
}

std::optional<client_actor> live_clients::evict_for_room() {
  if (live_.size() < capacity_ || idle_lru_.empty()) return std::nullopt;
  auto victim = live_.find(idle_lru_.back());
  idle_lru_.pop_back();
  auto handle = std::move(victim->second.handle);
  live_.erase(victim);
  ++evictions_;
  return handle;
}

void live_clients::add_busy(uint32_t id, client_actor handle) {
  auto& e = live_[id];
  e.handle = std::move(handle);
  e.busy = 1;
  peak_ = std::max(peak_, live_.size());
}

void live_clients::release(uint32_t id) {
  auto it = live_.find(id);
  if (it == live_.end() || it->second.busy == 0) return;
  if (--it->second.busy > 0) return;
  idle_lru_.push_front(id);
  it->second.lru_pos = idle_lru_.begin();
}

bool live_clients::forget(const caf::actor_addr& source) {
  for (auto it = live_.begin(); it != live_.end(); ++it) {
    if (it->second.handle.address() != source) continue;
    if (it->second.busy == 0) idle_lru_.erase(it->second.lru_pos);
    live_.erase(it);
    return true;
  }
  return false;
}

}  // namespace fedactor
