// The four partitioners; see partition.hpp.

#include "runtime/learning/partition.hpp"

#include <algorithm>
#include <queue>
#include <stdexcept>
#include <string>

#include "runtime/math/dirichlet.hpp"
#include "runtime/math/rng.hpp"

namespace fedactor {

namespace {

constexpr uint64_t tag_partition = 0x7061727469;  // "parti"
enum stream : uint64_t { label_order = 1, all_order, label_split, sizes, label_choice };

using client_lists = std::vector<std::vector<uint32_t>>;

void shuffle(std::vector<uint32_t>& v, rng r) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r.below(i)]);
}

std::vector<std::vector<uint32_t>> by_label(const std::vector<uint8_t>& labels, uint32_t classes,
                                            uint64_t seed) {
  std::vector<std::vector<uint32_t>> out(classes);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= classes)
      throw std::invalid_argument("sample " + std::to_string(i) + " has label " +
                                  std::to_string(labels[i]) + ", expected < " +
                                  std::to_string(classes));
    out[labels[i]].push_back(static_cast<uint32_t>(i));
  }
  for (uint32_t l = 0; l < classes; ++l)
    shuffle(out[l], rng{stream_key(seed, tag_partition, label_order, l)});
  return out;
}

std::vector<uint32_t> all_shuffled(size_t n, uint64_t seed) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>(i);
  shuffle(v, rng{stream_key(seed, tag_partition, all_order)});
  return v;
}

// Cuts `order` into consecutive pieces of the given sizes.
client_lists cut(const std::vector<uint32_t>& order, const std::vector<size_t>& sizes) {
  client_lists out(sizes.size());
  size_t at = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    out[c].assign(order.begin() + at, order.begin() + at + sizes[c]);
    at += sizes[c];
  }
  return out;
}

// Sizes n/clients rounded, the first n % clients one larger.
std::vector<size_t> even_sizes(size_t n, size_t clients) {
  std::vector<size_t> s(clients, n / clients);
  for (size_t c = 0; c < n % clients; ++c) ++s[c];
  return s;
}

// Gives every empty client one sample of the currently largest client (ties: lower id).
void fill_empty(client_lists& lists) {
  auto larger = [&](uint64_t a, uint64_t b) {
    return lists[a].size() < lists[b].size() || (lists[a].size() == lists[b].size() && a > b);
  };
  std::priority_queue<uint64_t, std::vector<uint64_t>, decltype(larger)> heap(larger);
  for (uint64_t c = 0; c < lists.size(); ++c)
    if (lists[c].size() > 1) heap.push(c);
  for (uint64_t c = 0; c < lists.size(); ++c) {
    if (!lists[c].empty()) continue;
    if (heap.empty()) throw std::invalid_argument("too few samples to give every client one");
    const uint64_t big = heap.top();
    heap.pop();
    lists[c].push_back(lists[big].back());
    lists[big].pop_back();
    if (lists[big].size() > 1) heap.push(big);
  }
}

client_lists dirichlet_split(const std::vector<uint8_t>& labels, uint32_t classes, uint64_t clients,
                             double alpha, uint64_t seed) {
  auto per_label = by_label(labels, classes, seed);
  client_lists lists(clients);
  for (uint32_t l = 0; l < classes; ++l) {
    rng r{stream_key(seed, tag_partition, label_split, l)};
    auto p = dirichlet_draw(r, alpha, clients);
    auto counts = proportional_counts(p, per_label[l].size());
    size_t at = 0;
    for (uint64_t c = 0; c < clients; ++c) {
      lists[c].insert(lists[c].end(), per_label[l].begin() + at,
                      per_label[l].begin() + at + counts[c]);
      at += counts[c];
    }
  }
  fill_empty(lists);
  return lists;
}

client_lists labels_split(const std::vector<uint8_t>& labels, uint32_t classes, uint64_t clients,
                          uint32_t k, uint64_t seed) {
  if (k < 1 || k > classes)
    throw std::invalid_argument("labels_per_client must be in [1, " + std::to_string(classes) +
                                "], got " + std::to_string(k));
  auto per_label = by_label(labels, classes, seed);
  std::vector<std::vector<uint64_t>> holders(classes);
  std::vector<uint32_t> pool(classes);
  for (uint64_t c = 0; c < clients; ++c) {
    const auto first = static_cast<uint32_t>(c % classes);
    holders[first].push_back(c);
    // The other k - 1 labels: a partial Fisher–Yates over the labels other than `first`.
    pool.clear();
    for (uint32_t l = 0; l < classes; ++l)
      if (l != first) pool.push_back(l);
    rng r{stream_key(seed, tag_partition, label_choice, c)};
    for (uint32_t j = 0; j + 1 < k; ++j) {
      std::swap(pool[j], pool[j + r.below(pool.size() - j)]);
      holders[pool[j]].push_back(c);
    }
  }
  client_lists lists(clients);
  for (uint32_t l = 0; l < classes; ++l) {
    const auto& h = holders[l];
    if (h.empty() && !per_label[l].empty())
      throw std::invalid_argument("label " + std::to_string(l) +
                                  " is held by no client (clients x labels_per_client < classes)");
    if (per_label[l].size() < h.size())
      throw std::invalid_argument("label " + std::to_string(l) + " has " +
                                  std::to_string(per_label[l].size()) + " samples for " +
                                  std::to_string(h.size()) + " clients holding it");
    if (h.empty()) continue;
    // holders[l] is ascending in client id: the split is independent of the draw order.
    auto sizes = even_sizes(per_label[l].size(), h.size());
    size_t at = 0;
    for (size_t j = 0; j < h.size(); ++j) {
      auto& dst = lists[h[j]];
      dst.insert(dst.end(), per_label[l].begin() + at, per_label[l].begin() + at + sizes[j]);
      at += sizes[j];
    }
  }
  return lists;
}

partition flatten(client_lists& lists, size_t total) {
  std::vector<uint64_t> offsets;
  offsets.reserve(lists.size() + 1);
  std::vector<uint32_t> indices;
  indices.reserve(total);
  offsets.push_back(0);
  for (auto& l : lists) {
    indices.insert(indices.end(), l.begin(), l.end());
    offsets.push_back(indices.size());
    std::vector<uint32_t>().swap(l);
  }
  return partition{std::move(offsets), std::move(indices)};
}

}  // namespace

partition make_partition(const std::vector<uint8_t>& labels, uint32_t classes, uint64_t clients,
                         const partition_config& cfg, uint64_t seed) {
  const size_t n = labels.size();
  if (clients == 0) throw std::invalid_argument("no clients to split the data over");
  if (clients > n)
    throw std::invalid_argument(std::to_string(clients) + " clients but only " + std::to_string(n) +
                                " training samples");
  if ((cfg.kind == partition_kind::dirichlet || cfg.kind == partition_kind::quantity_skew) &&
      !(cfg.alpha > 0))
    throw std::invalid_argument("alpha must be > 0 for the dirichlet and quantity_skew partitions");
  client_lists lists;
  switch (cfg.kind) {
    case partition_kind::iid:
      lists = cut(all_shuffled(n, seed), even_sizes(n, clients));
      break;
    case partition_kind::dirichlet:
      lists = dirichlet_split(labels, classes, clients, cfg.alpha, seed);
      break;
    case partition_kind::labels_per_client:
      lists = labels_split(labels, classes, clients, cfg.labels_per_client, seed);
      break;
    case partition_kind::quantity_skew: {
      for (auto l : labels)
        if (l >= classes) throw std::invalid_argument("a label is >= " + std::to_string(classes));
      rng r{stream_key(seed, tag_partition, sizes)};
      auto p = dirichlet_draw(r, cfg.alpha, clients);
      auto extra = proportional_counts(p, n - clients);
      for (auto& e : extra) ++e;
      lists = cut(all_shuffled(n, seed), extra);
      break;
    }
  }
  return flatten(lists, n);
}

}  // namespace fedactor
