#pragma once

// A FIFO of client jobs with at most `capacity` in flight: an edge trains at most as many
// clients at once as its live set holds; the others wait their turn. Actor-free; the edge
// shell sends what next() hands out and calls done() for each job that ends.

#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

namespace fedactor {

template <class Job>
class task_slots {
 public:
  explicit task_slots(size_t capacity = 1) : capacity_(capacity == 0 ? 1 : capacity) {}

  void set_capacity(size_t capacity) { capacity_ = capacity == 0 ? 1 : capacity; }
  void push(Job job) { queue_.push_back(std::move(job)); }

  // The next job to start, if a slot is free (it then counts as in flight).
  std::optional<Job> next() {
    if (in_flight_ >= capacity_ || queue_.empty()) return std::nullopt;
    Job j = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    return j;
  }

  // A job handed out by next() ended: its slot is free.
  void done() {
    if (in_flight_ > 0) --in_flight_;
  }

  size_t in_flight() const { return in_flight_; }
  size_t queued() const { return queue_.size(); }

 private:
  size_t capacity_;
  size_t in_flight_ = 0;
  std::deque<Job> queue_;
};

}  // namespace fedactor
