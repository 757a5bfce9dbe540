// Tests of runtime/learning/partition.*.

#include "runtime/learning/partition.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

// 10 classes × 1000 samples, labels interleaved by a fixed permutation.
std::vector<uint8_t> balanced_labels(size_t per_class = 1000) {
  std::vector<uint8_t> labels(per_class * 10);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>((i * 7) % 10);
  return labels;
}

partition_config config(partition_kind kind, double alpha = 0.5, uint32_t k = 2) {
  partition_config c;
  c.kind = kind;
  c.alpha = alpha;
  c.labels_per_client = k;
  return c;
}

void require_exact_cover(const partition& p, size_t samples) {
  std::vector<int> seen(samples, 0);
  size_t total = 0;
  for (uint64_t c = 0; c < p.clients(); ++c) {
    REQUIRE(p.size(c) > 0);
    for (uint32_t k = 0; k < p.size(c); ++k) ++seen[p.indices(c)[k]];
    total += p.size(c);
  }
  REQUIRE(total == samples);
  for (int s : seen) REQUIRE(s == 1);
}

// Pearson's chi-square of the client × label count table against independence.
double chi_square(const partition& p, const std::vector<uint8_t>& labels) {
  const size_t clients = p.clients();
  std::vector<std::vector<double>> table(clients, std::vector<double>(10, 0));
  for (uint64_t c = 0; c < clients; ++c)
    for (uint32_t k = 0; k < p.size(c); ++k) table[c][labels[p.indices(c)[k]]] += 1;
  std::vector<double> rows(clients, 0), cols(10, 0);
  double n = 0;
  for (size_t c = 0; c < clients; ++c)
    for (size_t l = 0; l < 10; ++l)
      rows[c] += table[c][l], cols[l] += table[c][l], n += table[c][l];
  double chi = 0;
  for (size_t c = 0; c < clients; ++c)
    for (size_t l = 0; l < 10; ++l) {
      const double e = rows[c] * cols[l] / n;
      chi += (table[c][l] - e) * (table[c][l] - e) / e;
    }
  return chi;
}

}  // namespace

TEST_CASE("every partition kind gives each sample to exactly one client", "[learning]") {
  const auto labels = balanced_labels();
  for (auto kind : {partition_kind::iid, partition_kind::dirichlet,
                    partition_kind::labels_per_client, partition_kind::quantity_skew}) {
    INFO(to_string(kind));
    for (uint64_t clients : {1u, 10u, 37u}) {
      if (kind == partition_kind::labels_per_client && clients * 2 < 10) continue;
      auto p = make_partition(labels, 10, clients, config(kind), 11);
      REQUIRE(p.clients() == clients);
      require_exact_cover(p, labels.size());
    }
  }
}

TEST_CASE("iid partition sizes differ by at most one", "[learning]") {
  auto p = make_partition(balanced_labels(), 10, 7, config(partition_kind::iid), 1);
  for (uint64_t c = 0; c < 7; ++c) CHECK((p.size(c) == 1428 || p.size(c) == 1429));
}

TEST_CASE("labels_per_client gives every client exactly k labels, split evenly", "[learning]") {
  const auto labels = balanced_labels();
  for (uint32_t k : {1u, 2u, 3u, 10u}) {
    INFO("k = " << k);
    auto p = make_partition(labels, 10, 20, config(partition_kind::labels_per_client, 0, k), 5);
    require_exact_cover(p, labels.size());
    std::vector<std::vector<uint32_t>> per_label_sizes(10);
    for (uint64_t c = 0; c < 20; ++c) {
      std::vector<uint32_t> counts(10, 0);
      for (uint32_t j = 0; j < p.size(c); ++j) ++counts[labels[p.indices(c)[j]]];
      uint32_t held = 0;
      for (uint32_t l = 0; l < 10; ++l) {
        if (counts[l] == 0) continue;
        ++held;
        per_label_sizes[l].push_back(counts[l]);
      }
      REQUIRE(held == k);
      REQUIRE(counts[c % 10] > 0);  // client c always holds label c mod 10
    }
    // Holders of a label get its 1000 samples in near-equal shares.
    for (const auto& sizes : per_label_sizes) {
      REQUIRE_FALSE(sizes.empty());
      auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
      CHECK(*hi - *lo <= 1);
    }
  }
}

TEST_CASE("labels_per_client rejects k outside 1..classes and too few samples per holder",
          "[learning]") {
  const auto labels = balanced_labels(3);
  CHECK_THROWS_AS(
      make_partition(labels, 10, 10, config(partition_kind::labels_per_client, 0, 0), 1),
      std::invalid_argument);
  CHECK_THROWS_AS(
      make_partition(labels, 10, 10, config(partition_kind::labels_per_client, 0, 11), 1),
      std::invalid_argument);
  // 30 clients holding 5 labels each: 15 holders per label, 3 samples per label.
  CHECK_THROWS_WITH(
      make_partition(labels, 10, 30, config(partition_kind::labels_per_client, 0, 5), 1),
      Catch::Contains("samples for") && Catch::Contains("clients holding it"));
}

TEST_CASE("dirichlet with a large alpha is close to iid, with a small alpha far from it",
          "[learning]") {
  const auto labels = balanced_labels();
  // 10 clients × 10 labels: (10-1)(10-1) = 81 degrees of freedom. An iid split stays near 81;
  // its 0.999 quantile is about 124.
  const double iid =
      chi_square(make_partition(labels, 10, 10, config(partition_kind::iid), 3), labels);
  const double large = chi_square(
      make_partition(labels, 10, 10, config(partition_kind::dirichlet, 1000), 3), labels);
  const double small =
      chi_square(make_partition(labels, 10, 10, config(partition_kind::dirichlet, 0.1), 3), labels);
  CHECK(iid < 124);
  CHECK(large < 124);
  CHECK(small > 1000);
}

TEST_CASE("a skewed dirichlet split over many clients leaves none empty", "[learning]") {
  const auto labels = balanced_labels();
  auto p = make_partition(labels, 10, 3000, config(partition_kind::dirichlet, 0.3), 8);
  require_exact_cover(p, labels.size());
  uint32_t largest = 0;
  for (uint64_t c = 0; c < 3000; ++c) largest = std::max(largest, p.size(c));
  CHECK(largest > 2 * 10000 / 3000);  // sizes are skewed, not 3 or 4 each
}

TEST_CASE("quantity_skew sizes follow the Dirichlet draw and keep labels mixed", "[learning]") {
  const auto labels = balanced_labels();
  auto skewed = make_partition(labels, 10, 10, config(partition_kind::quantity_skew, 0.5), 2);
  std::vector<uint32_t> sizes;
  for (uint64_t c = 0; c < 10; ++c) sizes.push_back(skewed.size(c));
  auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
  CHECK(*hi > 3 * *lo);
  auto even = make_partition(labels, 10, 10, config(partition_kind::quantity_skew, 1e6), 2);
  for (uint64_t c = 0; c < 10; ++c) CHECK(std::abs(int(even.size(c)) - 1000) < 30);
}

TEST_CASE("partitions are a pure function of the seed", "[learning]") {
  const auto labels = balanced_labels();
  for (auto kind : {partition_kind::iid, partition_kind::dirichlet,
                    partition_kind::labels_per_client, partition_kind::quantity_skew}) {
    INFO(to_string(kind));
    auto a = make_partition(labels, 10, 12, config(kind), 4);
    auto b = make_partition(labels, 10, 12, config(kind), 4);
    auto c = make_partition(labels, 10, 12, config(kind), 5);
    CHECK(a.all_indices() == b.all_indices());
    CHECK(a.all_indices() != c.all_indices());
  }
}

TEST_CASE("partition refuses more clients than samples and a zero alpha", "[learning]") {
  const auto labels = balanced_labels(1);
  CHECK_THROWS_WITH(make_partition(labels, 10, 11, config(partition_kind::iid), 1),
                    "11 clients but only 10 training samples");
  CHECK_THROWS_AS(make_partition(labels, 10, 2, config(partition_kind::dirichlet, 0), 1),
                  std::invalid_argument);
}
