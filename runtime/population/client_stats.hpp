#pragma once

// What the server has learnt about each client from its reports, for utility-guided selection
// (runtime/population/oort_sampler.hpp): the client's last statistical utility, its last
// simulated task duration and the round it last reported in, as dense arrays beside the
// registry (12 bytes per client), plus a permutation of all ids split into never-reported and
// reported clients with each id's position (8 bytes per client). 20 bytes per client: 10
// million clients in about 191 MiB.
//
// report() costs O(1) (a swap in the permutation), so a round's reports cost O(k). The
// reported clients are the tail of the permutation; the never-reported ones its head, where a
// uniform draw is one index.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/population/client_id.hpp"

namespace fedactor {
class byte_writer;
class byte_reader;
}  // namespace fedactor

namespace fedactor {

class client_stats {
 public:
  // Statistics for clients 0 .. clients-1, none reported yet.
  explicit client_stats(uint64_t clients);

  uint64_t size() const { return utility_.size(); }

  // Client `id` reported: its utility, duration and the round of the task (>= 1).
  void report(client_id id, float utility, float duration, uint32_t round);

  bool reported(client_id id) const { return pos_[id] >= unseen_; }
  float utility(client_id id) const { return utility_[id]; }
  float duration(client_id id) const { return duration_[id]; }
  uint32_t round(client_id id) const { return round_[id]; }  // 0 = never reported

  // Never-reported clients: unseen_at(i) for i < unseen_count(), in no particular order.
  uint64_t unseen_count() const { return unseen_; }
  client_id unseen_at(uint64_t i) const { return perm_[i]; }
  // Reported clients: reported_at(i) for i < reported_count().
  uint64_t reported_count() const { return perm_.size() - unseen_; }
  client_id reported_at(uint64_t i) const { return perm_[unseen_ + i]; }

  // Heap bytes held (capacity based).
  size_t bytes() const;

  // Checkpoints: the permutation and the reported clients' statistics (in permutation order).
  // load throws checkpoint_error for another population size or an inconsistent state,
  // leaving the statistics unchanged.
  void save(byte_writer& out) const;
  void load(byte_reader& in);

 private:
  std::vector<float> utility_;
  std::vector<float> duration_;
  std::vector<uint32_t> round_;
  std::vector<client_id> perm_;  // [0, unseen_): never reported; the rest: reported
  std::vector<uint32_t> pos_;    // pos_[id]: id's index in perm_
  uint64_t unseen_;
};

}  // namespace fedactor
