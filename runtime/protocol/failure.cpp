#include "runtime/protocol/failure.hpp"

namespace fedactor {

const char* to_string(failure_code x) {
  switch (x) {
    case failure_code::timeout:
      return "timeout";
    case failure_code::edge_lost:
      return "edge_lost";
    case failure_code::invalid_update:
      return "invalid_update";
    case failure_code::stale:
      return "stale";
    case failure_code::client_error:
      return "client_error";
    case failure_code::unavailable:
      return "unavailable";
  }
  return "?";
}

std::optional<failure_code> failure_code_from(const std::string& name) {
  for (size_t i = 0; i < failure_code_count; ++i) {
    auto c = static_cast<failure_code>(i);
    if (name == to_string(c)) return c;
  }
  return std::nullopt;
}

uint32_t failure_counts::total() const {
  uint32_t n = 0;
  for (size_t i = 0; i < failure_code_count; ++i)
    if (static_cast<failure_code>(i) != failure_code::stale) n += by_code[i];
  return n;
}

void failure_counts::merge(const failure_counts& other) {
  for (size_t i = 0; i < failure_code_count; ++i) by_code[i] += other.by_code[i];
}

std::vector<uint32_t> failure_counts::to_wire() const {
  return std::vector<uint32_t>(by_code.begin(), by_code.end());
}

std::optional<failure_counts> failure_counts::from_wire(const std::vector<uint32_t>& counts) {
  if (counts.size() > failure_code_count) return std::nullopt;
  failure_counts out;
  for (size_t i = 0; i < counts.size(); ++i) out.by_code[i] = counts[i];
  return out;
}

}  // namespace fedactor
