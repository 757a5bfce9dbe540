#pragma once

// The bounded set of live client actors kept by an edge or a client host: clients are
// spawned on first use, stay alive while they have tasks, and once idle wait in a
// least-recently-used list; when the set is full the least recently used idle client is
// evicted to make room. (If every live client is busy the set grows past its capacity; the
// owner bounds the number of tasks in flight.)
//
// The set only keeps the books; the owning actor spawns, links and stops the actors (see
// acquire_client below).

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

#include <caf/actor_addr.hpp>

#include "actors/client.hpp"

namespace fedactor {

class live_clients {
 public:
  explicit live_clients(size_t capacity = 1) : capacity_(capacity == 0 ? 1 : capacity) {}

  void set_capacity(size_t capacity) { capacity_ = capacity == 0 ? 1 : capacity; }
  size_t capacity() const { return capacity_; }

  // The live actor of `id`, now counted busy with one more task; nullopt if `id` is not live.
  std::optional<client_actor> checkout(uint32_t id);

  // When the set is full and some client is idle: removes the least recently used idle
  // client and returns its actor, for the owner to stop. Otherwise nullopt.
  std::optional<client_actor> evict_for_room();

  // Adds a newly spawned actor for `id` (not live), busy with one task.
  void add_busy(uint32_t id, client_actor handle);

  // One task of `id` ended; with none left the client becomes the most recently used idle
  // one. Unknown ids (an actor that died meanwhile) are ignored.
  void release(uint32_t id);

  // Forgets the client whose actor is `source` (it exited). False if none is.
  bool forget(const caf::actor_addr& source);

  size_t size() const { return live_.size(); }
  size_t idle() const { return idle_lru_.size(); }
  size_t peak() const { return peak_; }
  uint64_t evictions() const { return evictions_; }

 private:
  struct entry {
    client_actor handle;
    std::list<uint32_t>::iterator lru_pos;  // valid while idle
    uint32_t busy = 0;                      // tasks in progress
  };
  size_t capacity_;
  std::unordered_map<uint32_t, entry> live_;
  std::list<uint32_t> idle_lru_;  // front = most recently used
  size_t peak_ = 0;
  uint64_t evictions_ = 0;
};

// The client actor for one task of `id` at `self` (an edge or a client host): the live one,
// or a new one linked to `self` (it goes when its owner goes), evicting the least recently
// used idle client first when the set is full.
template <class Self>
client_actor acquire_client(Self* self, live_clients& set, uint32_t id,
                            const std::shared_ptr<const data_source>& data,
                            const caf::actor& trainers,
                            const std::shared_ptr<client_state_store>& state = nullptr) {
  if (auto live = set.checkout(id)) return *live;
  if (auto victim = set.evict_for_room()) {
    self->unlink_from(*victim);
    self->send_exit(*victim, caf::exit_reason::user_shutdown);
  }
  auto handle = self->template spawn<caf::linked>(client, id, data, trainers, state);
  set.add_busy(id, handle);
  return handle;
}

}  // namespace fedactor
