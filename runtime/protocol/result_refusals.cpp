#include "runtime/protocol/result_refusals.hpp"

#include <atomic>

namespace fedactor {

namespace {

using counters = std::array<std::atomic<uint64_t>, result_refusal_count>;

counters& counted() {
  static counters c{};
  return c;
}

counters& reported() {
  static counters c{};
  return c;
}

result_refusal_counts load(const counters& c) {
  result_refusal_counts out{};
  for (size_t i = 0; i < result_refusal_count; ++i) out[i] = c[i].load(std::memory_order_relaxed);
  return out;
}

}  // namespace

const char* to_string(result_refusal r) {
  switch (r) {
    case result_refusal::wrong_task:
      return "wrong_task";
    case result_refusal::wrong_client:
      return "wrong_client";
    case result_refusal::wrong_shape:
      return "wrong_shape";
    case result_refusal::wrong_samples:
      return "wrong_samples";
    case result_refusal::non_finite:
      return "non_finite";
  }
  return "unknown";
}

void count_result_refusal(result_refusal r) {
  counted()[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
}

result_refusal_counts counted_result_refusals() {
  return load(counted());
}

void add_reported_result_refusals(const result_refusal_counts& counts) {
  for (size_t i = 0; i < result_refusal_count; ++i)
    if (counts[i] > 0) reported()[i].fetch_add(counts[i], std::memory_order_relaxed);
}

result_refusal_counts reported_result_refusals() {
  return load(reported());
}

std::optional<result_refusal_counts> result_refusals_from_wire(const std::vector<uint32_t>& w) {
  result_refusal_counts out{};
  if (w.empty()) return out;
  if (w.size() != result_refusal_count) return std::nullopt;
  for (size_t i = 0; i < result_refusal_count; ++i) out[i] = w[i];
  return out;
}

std::vector<uint32_t> result_refusals_to_wire(const result_refusal_counts& counts) {
  uint64_t total = 0;
  for (auto n : counts) total += n;
  if (total == 0) return {};
  std::vector<uint32_t> w(result_refusal_count);
  for (size_t i = 0; i < result_refusal_count; ++i) w[i] = static_cast<uint32_t>(counts[i]);
  return w;
}

std::string result_refusals_line(const result_refusal_counts& counts) {
  uint64_t total = 0;
  std::string parts;
  for (size_t i = 0; i < result_refusal_count; ++i) {
    if (counts[i] == 0) continue;
    total += counts[i];
    if (!parts.empty()) parts += ", ";
    parts +=
        std::string{to_string(static_cast<result_refusal>(i))} + " " + std::to_string(counts[i]);
  }
  if (total == 0) return "refused client results: none";
  return "refused client results: " + std::to_string(total) + " (" + parts + ")";
}

void reset_result_refusals() {
  for (auto& c : counted()) c.store(0, std::memory_order_relaxed);
  for (auto& c : reported()) c.store(0, std::memory_order_relaxed);
}

}  // namespace fedactor
