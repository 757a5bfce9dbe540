#pragma once

// Simulated-finish ordering of asynchronous results. Every task is registered at dispatch with
// a sequence number and its simulated finish time; results then arrive in whatever order real
// execution delivers them. pop_ready() releases a task only when every task with an earlier
// (finish, seq) has arrived (or failed) and been released, so a fast client dispatched late
// overtakes a slow one dispatched early, and the release order is (finish, seq) order whatever
// the real arrival order. Ties in finish time are broken by the smaller seq.
//
// Simulated clock: the finish of the item just popped is the simulation's "now"; tasks
// dispatched from then on (finish = now + duration) can never be released earlier. A task
// registered with a finish earlier than an already released one is still released, in
// (finish, seq) order among those not yet released.
//
// Every operation is O(log n) in the number of registered, unreleased tasks.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

namespace fedactor {

template <class Payload>
class release_queue {
 public:
  struct item {
    uint64_t seq;
    double finish;
    std::optional<Payload> payload;  // nullopt: the task failed (cancel)
  };

  // Registers a task. False (nothing registered) if seq is already registered and unreleased,
  // or finish is NaN.
  bool dispatch(uint64_t seq, double finish) {
    if (std::isnan(finish) || index_.count(seq) != 0) return false;
    auto it = tasks_.emplace(key{finish, seq}, slot{}).first;
    index_.emplace(seq, it);
    return true;
  }

  // The result of task seq. False (payload dropped) if seq is not registered, already
  // arrived or cancelled, or already released.
  bool arrive(uint64_t seq, Payload payload) {
    auto s = find(seq);
    if (s == nullptr || s->done) return false;
    s->done = true;
    s->payload.emplace(std::move(payload));
    ++done_;
    return true;
  }

  // Task seq failed: it is released in its place without a payload. False if seq is not
  // registered, already arrived or cancelled, or already released.
  bool cancel(uint64_t seq) {
    auto s = find(seq);
    if (s == nullptr || s->done) return false;
    s->done = true;
    ++done_;
    return true;
  }

  // The next task in (finish, seq) order if it has arrived or failed; nullopt while it is
  // still running (or nothing is registered).
  std::optional<item> pop_ready() {
    if (tasks_.empty()) return std::nullopt;
    auto it = tasks_.begin();
    if (!it->second.done) return std::nullopt;
    // Filled in place (GCC 12 reports a moved-from optional<variant> member as
    // uninitialized when the item is built by aggregate initialisation and returned).
    std::optional<item> out{std::in_place};
    out->seq = it->first.seq;
    out->finish = it->first.finish;
    if (it->second.payload) out->payload.emplace(std::move(*it->second.payload));
    index_.erase(it->first.seq);
    tasks_.erase(it);
    --done_;
    return out;
  }

  // Registered and not yet released (running, or arrived and held back).
  size_t in_flight() const { return tasks_.size(); }
  // Registered and neither arrived nor cancelled.
  size_t running() const { return tasks_.size() - done_; }
  // Arrived or cancelled, held back until the earlier tasks are released.
  size_t held() const { return done_; }
  bool empty() const { return tasks_.empty(); }

  // Finish time of the next task to release (arrived or not); nullopt when empty.
  std::optional<double> next_finish() const {
    if (tasks_.empty()) return std::nullopt;
    return tasks_.begin()->first.finish;
  }

  // The seq of the task everything waits for: the earliest one, when it has not arrived.
  std::optional<uint64_t> blocking_seq() const {
    if (tasks_.empty() || tasks_.begin()->second.done) return std::nullopt;
    return tasks_.begin()->first.seq;
  }

 private:
  struct key {
    double finish;
    uint64_t seq;
    bool operator<(const key& o) const {
      return finish < o.finish || (finish == o.finish && seq < o.seq);
    }
  };
  struct slot {
    bool done = false;
    std::optional<Payload> payload;
  };
  using map_type = std::map<key, slot>;

  slot* find(uint64_t seq) {
    auto i = index_.find(seq);
    return i == index_.end() ? nullptr : &i->second->second;
  }

  map_type tasks_;
  std::unordered_map<uint64_t, typename map_type::iterator> index_;
  size_t done_ = 0;
};

}  // namespace fedactor
