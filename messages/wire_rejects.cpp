#include "messages/wire_rejects.hpp"

#include <atomic>

namespace fedactor {

namespace {

std::array<std::atomic<uint64_t>, wire_reject_count>& counters() {
  static std::array<std::atomic<uint64_t>, wire_reject_count> c{};
  return c;
}

}  // namespace

const char* to_string(wire_reject r) {
  switch (r) {
    case wire_reject::param_count:
      return "param_count";
    case wire_reject::byte_field_length:
      return "byte_field_length";
    case wire_reject::outcome_tag:
      return "outcome_tag";
  }
  return "unknown";
}

void count_wire_reject(wire_reject r) {
  counters()[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t wire_rejects(wire_reject r) {
  return counters()[static_cast<size_t>(r)].load(std::memory_order_relaxed);
}

std::array<uint64_t, wire_reject_count> wire_reject_counts() {
  std::array<uint64_t, wire_reject_count> out{};
  for (size_t i = 0; i < wire_reject_count; ++i)
    out[i] = counters()[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t wire_rejects_total() {
  uint64_t total = 0;
  for (auto n : wire_reject_counts()) total += n;
  return total;
}

std::string wire_rejects_line() {
  const auto counts = wire_reject_counts();
  uint64_t total = 0;
  std::string parts;
  for (size_t i = 0; i < wire_reject_count; ++i) {
    if (counts[i] == 0) continue;
    total += counts[i];
    if (!parts.empty()) parts += ", ";
    parts += to_string(static_cast<wire_reject>(i));
    parts += ' ';
    parts += std::to_string(counts[i]);
  }
  if (total == 0) return "undeserializable messages: none";
  return "undeserializable messages: " + std::to_string(total) + " (" + parts + ")";
}

void reset_wire_rejects() {
  for (auto& c : counters()) c.store(0, std::memory_order_relaxed);
}

}  // namespace fedactor
