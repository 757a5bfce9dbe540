#include "runtime/population/sampler.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/population/oort_sampler.hpp"

namespace fedactor {

namespace {

[[noreturn]] void throw_too_few(uint32_t k, const char* strategy) {
  throw std::invalid_argument(std::string(strategy) + " sampler: fewer than " + std::to_string(k) +
                              " eligible clients");
}

void check_k(uint32_t k, const client_registry& reg, const char* strategy) {
  if (k > reg.size()) throw_too_few(k, strategy);
}

// Stream of the `call`-th call of a sampler, made for `round`.
rng call_stream(uint64_t seed, int32_t round, uint64_t call) {
  return rng{stream_key(seed, rng_tag::sampling, static_cast<uint32_t>(round), call)};
}

// The saved state of the samplers below: the kind's name, then its fields.
byte_reader state_reader(const char* data, size_t size, const char* kind) {
  byte_reader in(data, size, "sampler state");
  const auto name = in.get_string("sampler kind");
  if (name != kind) in.fail("saved by a " + name + " sampler, this one is " + kind);
  return in;
}

void mark_all(client_registry& reg, const std::vector<client_id>& ids, int32_t round) {
  for (client_id id : ids) reg.mark_picked(id, round);
}

// Uniform without replacement. Sparse case (2k <= n): rejection into a hash set, O(k)
// expected. Dense case, or when rejections pile up because many clients are excluded: one
// pass collecting the eligible clients, then a partial Fisher-Yates shuffle. Each accepted
// draw is uniform over the eligible clients not yet picked in both phases, so the result is a
// uniform k-subset of the eligible clients whichever phase finishes it.
class random_sampler final : public sampler {
 public:
  random_sampler(client_registry& reg, uint64_t seed) : reg_(reg), seed_(seed) {}

  std::vector<client_id> sample(uint32_t k, int32_t round, const exclude_fn& excluded) override {
    check_k(k, reg_, "random");
    const uint64_t n = reg_.size();
    rng r = call_stream(seed_, round, calls_);
    std::vector<client_id> picks;
    picks.reserve(k);
    std::unordered_set<client_id> chosen;
    if (2 * static_cast<uint64_t>(k) <= n) {
      chosen.reserve(2 * static_cast<size_t>(k));
      const uint64_t max_draws = 4 * static_cast<uint64_t>(k) + 64;
      for (uint64_t draw = 0; picks.size() < k && draw < max_draws; ++draw) {
        auto id = static_cast<client_id>(r.below(n));
        if (chosen.count(id) != 0 || (excluded && excluded(id))) continue;
        chosen.insert(id);
        picks.push_back(id);
      }
    }
    if (picks.size() < k) {
      std::vector<client_id> pool;
      for (uint64_t i = 0; i < n; ++i) {
        auto id = static_cast<client_id>(i);
        if (chosen.count(id) == 0 && !(excluded && excluded(id))) pool.push_back(id);
      }
      const size_t missing = k - picks.size();
      if (pool.size() < missing) throw_too_few(k, "random");
      for (size_t i = 0; i < missing; ++i) {
        std::swap(pool[i], pool[i + r.below(pool.size() - i)]);
        picks.push_back(pool[i]);
      }
    }
    ++calls_;
    std::sort(picks.begin(), picks.end());
    mark_all(reg_, picks, round);
    return picks;
  }

  size_t bytes() const override { return 0; }

  bool saves_state() const override { return true; }
  std::vector<char> save_state() const override {
    byte_writer out;
    out.put_string("random");
    out.put_u64(calls_);
    return out.take();
  }
  void load_state(const char* data, size_t size) override {
    auto in = state_reader(data, size, "random");
    const uint64_t calls = in.get_u64("calls");
    in.finish();
    calls_ = calls;
  }

 private:
  client_registry& reg_;
  uint64_t seed_;
  uint64_t calls_ = 0;
};

// Successive draws proportional to num_samples over a Fenwick tree of the integer weights
// (built once, O(n)). A drawn client's weight is taken out of the tree so it cannot be drawn
// again, and put back when the call ends: O(k log n) per call, exact integer arithmetic.
// A drawn excluded client is taken out too (and not returned), so the draws that count are
// proportional to num_samples among the eligible clients not yet picked.
class weighted_sampler final : public sampler {
 public:
  weighted_sampler(client_registry& reg, uint64_t seed)
      : reg_(reg), seed_(seed), tree_(reg.size()), total_(reg.total_samples()) {
    const uint64_t n = tree_.size();
    for (uint64_t i = 0; i < n; ++i) tree_[i] = reg.num_samples(static_cast<client_id>(i));
    for (uint64_t node = 1; node <= n; ++node) {
      uint64_t parent = node + (node & (~node + 1));
      if (parent <= n) tree_[parent - 1] += tree_[node - 1];
    }
    top_ = 1;
    while (top_ * 2 <= n) top_ *= 2;
  }

  std::vector<client_id> sample(uint32_t k, int32_t round, const exclude_fn& excluded) override {
    check_k(k, reg_, "weighted");
    rng r = call_stream(seed_, round, calls_);
    std::vector<client_id> picks;
    picks.reserve(k);
    std::vector<client_id> removed;
    removed.reserve(k);
    uint64_t remaining = total_;
    while (picks.size() < k && remaining > 0) {
      client_id id = find(r.below(remaining));
      uint64_t w = reg_.num_samples(id);
      add(id, ~w + 1);  // subtract (modular; the true partial sums stay non-negative)
      remaining -= w;
      removed.push_back(id);
      if (!(excluded && excluded(id))) picks.push_back(id);
    }
    for (client_id id : removed) add(id, reg_.num_samples(id));
    if (picks.size() < k) throw_too_few(k, "weighted");
    ++calls_;
    std::sort(picks.begin(), picks.end());
    mark_all(reg_, picks, round);
    return picks;
  }

  size_t bytes() const override { return tree_.capacity() * sizeof(uint64_t); }

  // The tree is rebuilt from the registry (every call leaves it as built): only the calls.
  bool saves_state() const override { return true; }
  std::vector<char> save_state() const override {
    byte_writer out;
    out.put_string("weighted");
    out.put_u64(calls_);
    return out.take();
  }
  void load_state(const char* data, size_t size) override {
    auto in = state_reader(data, size, "weighted");
    const uint64_t calls = in.get_u64("calls");
    in.finish();
    calls_ = calls;
  }

 private:
  void add(client_id id, uint64_t delta) {
    const uint64_t n = tree_.size();
    for (uint64_t node = uint64_t{id} + 1; node <= n; node += node & (~node + 1))
      tree_[node - 1] += delta;
  }

  // The client whose cumulative weight interval holds u, u < current total: the smallest id
  // with prefix_sum(id + 1) > u. Clients with weight 0 own an empty interval.
  client_id find(uint64_t u) const {
    const uint64_t n = tree_.size();
    uint64_t pos = 0;
    for (uint64_t step = top_; step != 0; step >>= 1) {
      if (pos + step <= n && tree_[pos + step - 1] <= u) {
        pos += step;
        u -= tree_[pos - 1];
      }
    }
    return static_cast<client_id>(pos);
  }

  client_registry& reg_;
  uint64_t seed_;
  uint64_t calls_ = 0;
  std::vector<uint64_t> tree_;  // tree_[node - 1] for Fenwick node 1..n
  uint64_t total_;
  uint64_t top_;  // largest power of two <= n
};

// A FIFO over all ids, kept in a full ring of n entries ordered by (last_round, id) with
// never-picked clients (-1) first. A call takes the first k eligible entries from the head;
// the excluded entries it passes move up so they keep their order at the head, and the k
// picked clients go to the back in id order. Because the ring is always full, the slots they
// leave at the head are exactly the slots after its tail. O(k + excluded passed) per call.
// Ordering by last_round assumes rounds do not decrease from call to call.
class least_recent_sampler final : public sampler {
 public:
  explicit least_recent_sampler(client_registry& reg) : reg_(reg), ring_(reg.size()) {
    const uint64_t n = ring_.size();
    bool fresh = true;
    for (uint64_t i = 0; i < n; ++i) {
      ring_[i] = static_cast<client_id>(i);
      fresh = fresh && reg.last_round(ring_[i]) == -1;
    }
    if (!fresh) {  // a registry with history: order it once, O(n log n)
      std::sort(ring_.begin(), ring_.end(), [&reg](client_id a, client_id b) {
        return std::make_pair(reg.last_round(a), a) < std::make_pair(reg.last_round(b), b);
      });
    }
  }

  std::vector<client_id> sample(uint32_t k, int32_t round, const exclude_fn& excluded) override {
    check_k(k, reg_, "least_recent");
    const uint64_t n = ring_.size();
    std::vector<client_id> picks;
    picks.reserve(k);
    std::vector<client_id> skipped;
    uint64_t scanned = 0;
    for (; picks.size() < k && scanned < n; ++scanned) {
      client_id id = ring_[(head_ + scanned) % n];
      if (excluded && excluded(id))
        skipped.push_back(id);
      else
        picks.push_back(id);
    }
    if (picks.size() < k) throw_too_few(k, "least_recent");
    for (size_t i = 0; i < skipped.size(); ++i) ring_[(head_ + k + i) % n] = skipped[i];
    std::sort(picks.begin(), picks.end());
    for (size_t i = 0; i < picks.size(); ++i) ring_[(head_ + i) % n] = picks[i];
    head_ = (head_ + k) % n;
    mark_all(reg_, picks, round);
    return picks;
  }

  size_t bytes() const override { return ring_.capacity() * sizeof(client_id); }

  // The ring as it is (the order of excluded and same-call picks is not a function of the
  // registry's last_round), and its head.
  bool saves_state() const override { return true; }
  std::vector<char> save_state() const override {
    byte_writer out;
    out.put_string("least_recent");
    out.put_u64(head_);
    out.put_u32s(ring_);
    return out.take();
  }
  void load_state(const char* data, size_t size) override {
    auto in = state_reader(data, size, "least_recent");
    const uint64_t head = in.get_u64("head");
    auto ring = in.get_u32s("ring");
    in.finish();
    const uint64_t n = ring_.size();
    if (ring.size() != n)
      in.fail("a ring of " + std::to_string(ring.size()) + " clients, the population has " +
              std::to_string(n));
    if (head >= n) in.fail("head " + std::to_string(head) + " out of range");
    std::vector<bool> seen(n, false);
    for (auto id : ring) {
      if (id >= n || seen[id]) in.fail("the ring is not a permutation of the clients");
      seen[id] = true;
    }
    ring_ = std::move(ring);
    head_ = head;
  }

 private:
  client_registry& reg_;
  std::vector<client_id> ring_;
  uint64_t head_ = 0;
};

}  // namespace

void sampler::observe(client_id, const client_outcome&) {}

std::vector<char> sampler::save_state() const {
  throw std::logic_error("this sampler cannot be checkpointed (it does not override save_state)");
}

void sampler::load_state(const char*, size_t) {
  throw std::logic_error("this sampler cannot be checkpointed (it does not override load_state)");
}

std::unique_ptr<sampler> make_sampler(sampling_kind kind, client_registry& reg, uint64_t seed,
                                      const oort_config& oort) {
  switch (kind) {
    case sampling_kind::random:
      return std::make_unique<random_sampler>(reg, seed);
    case sampling_kind::weighted:
      return std::make_unique<weighted_sampler>(reg, seed);
    case sampling_kind::least_recent:
      return std::make_unique<least_recent_sampler>(reg);
    case sampling_kind::oort:
      return std::make_unique<oort_sampler>(reg, seed, oort);
  }
  throw std::invalid_argument("unknown sampling strategy");
}

}  // namespace fedactor
