#include "runtime/population/client_stats.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"

namespace fedactor {

client_stats::client_stats(uint64_t clients)
    : utility_(clients, 0.0f),
      duration_(clients, 0.0f),
      round_(clients, 0),
      perm_(clients),
      pos_(clients),
      unseen_(clients) {
  for (uint64_t i = 0; i < clients; ++i) {
    perm_[i] = static_cast<client_id>(i);
    pos_[i] = static_cast<uint32_t>(i);
  }
}

void client_stats::report(client_id id, float utility, float duration, uint32_t round) {
  utility_[id] = utility;
  duration_[id] = duration;
  round_[id] = round;
  if (pos_[id] < unseen_) {
    // Move it to the boundary, then past it.
    const uint64_t last = unseen_ - 1;
    const client_id other = perm_[last];
    std::swap(perm_[pos_[id]], perm_[last]);
    pos_[other] = pos_[id];
    pos_[id] = static_cast<uint32_t>(last);
    unseen_ = last;
  }
}

size_t client_stats::bytes() const {
  return utility_.capacity() * sizeof(float) + duration_.capacity() * sizeof(float) +
         round_.capacity() * sizeof(uint32_t) + perm_.capacity() * sizeof(client_id) +
         pos_.capacity() * sizeof(uint32_t);
}

void client_stats::save(byte_writer& out) const {
  out.put_u64(unseen_);
  out.put_u32s(perm_);
  std::vector<float> util, dur;
  std::vector<uint32_t> rounds;
  for (uint64_t i = unseen_; i < perm_.size(); ++i) {
    util.push_back(utility_[perm_[i]]);
    dur.push_back(duration_[perm_[i]]);
    rounds.push_back(round_[perm_[i]]);
  }
  out.put_floats(util);
  out.put_floats(dur);
  out.put_u32s(rounds);
}

void client_stats::load(byte_reader& in) {
  const uint64_t unseen = in.get_u64("unseen clients");
  auto perm = in.get_u32s("client order");
  auto util = in.get_floats("utilities");
  auto dur = in.get_floats("durations");
  auto rounds = in.get_u32s("report rounds");
  const uint64_t n = size();
  if (perm.size() != n)
    in.fail("statistics of " + std::to_string(perm.size()) + " clients, the population has " +
            std::to_string(n));
  if (unseen > n) in.fail("unseen count " + std::to_string(unseen) + " out of range");
  const uint64_t seen = n - unseen;
  if (util.size() != seen || dur.size() != seen || rounds.size() != seen)
    in.fail("statistics for " + std::to_string(util.size()) + " reported clients, expected " +
            std::to_string(seen));
  std::vector<uint32_t> pos(n, 0);
  std::vector<bool> hit(n, false);
  for (uint64_t i = 0; i < n; ++i) {
    if (perm[i] >= n || hit[perm[i]]) in.fail("the client order is not a permutation");
    hit[perm[i]] = true;
    pos[perm[i]] = static_cast<uint32_t>(i);
  }
  for (uint64_t i = 0; i < seen; ++i)
    if (!std::isfinite(util[i]) || !std::isfinite(dur[i]) || dur[i] < 0 || rounds[i] == 0)
      in.fail("reported client " + std::to_string(perm[unseen + i]) + " has invalid statistics");
  std::vector<float> u(n, 0.0f), d(n, 0.0f);
  std::vector<uint32_t> r(n, 0);
  for (uint64_t i = 0; i < seen; ++i) {
    const client_id id = perm[unseen + i];
    u[id] = util[i];
    d[id] = dur[i];
    r[id] = rounds[i];
  }
  utility_ = std::move(u);
  duration_ = std::move(d);
  round_ = std::move(r);
  perm_ = std::move(perm);
  pos_ = std::move(pos);
  unseen_ = unseen;
}

}  // namespace fedactor
