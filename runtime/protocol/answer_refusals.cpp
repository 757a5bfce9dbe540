#include "runtime/protocol/answer_refusals.hpp"

#include <atomic>

namespace fedactor {

namespace {

std::array<std::atomic<uint64_t>, answer_refusal_count>& counters() {
  static std::array<std::atomic<uint64_t>, answer_refusal_count> c{};
  return c;
}

}  // namespace

const char* to_string(answer_refusal r) {
  switch (r) {
    case answer_refusal::wrong_round:
      return "wrong_round";
    case answer_refusal::malformed_aggregate:
      return "malformed_aggregate";
    case answer_refusal::wrong_dimension:
      return "wrong_dimension";
    case answer_refusal::wrong_count:
      return "wrong_count";
    case answer_refusal::aux_mismatch:
      return "aux_mismatch";
    case answer_refusal::norm_counts:
      return "norm_counts";
    case answer_refusal::not_clipped:
      return "not_clipped";
    case answer_refusal::overflow:
      return "overflow";
    case answer_refusal::failure_codes:
      return "failure_codes";
    case answer_refusal::unknown_task:
      return "unknown_task";
    case answer_refusal::wrong_client:
      return "wrong_client";
    case answer_refusal::wrong_kind:
      return "wrong_kind";
    case answer_refusal::wrong_samples:
      return "wrong_samples";
    case answer_refusal::non_finite:
      return "non_finite";
    case answer_refusal::group_mismatch:
      return "group_mismatch";
    case answer_refusal::refusal_counts:
      return "refusal_counts";
  }
  return "unknown";
}

void count_answer_refusal(answer_refusal r) {
  counters()[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
}

std::array<uint64_t, answer_refusal_count> answer_refusal_counts() {
  std::array<uint64_t, answer_refusal_count> out{};
  for (size_t i = 0; i < answer_refusal_count; ++i)
    out[i] = counters()[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t answer_refusals_total() {
  uint64_t total = 0;
  for (auto n : answer_refusal_counts()) total += n;
  return total;
}

void reset_answer_refusals() {
  for (auto& c : counters()) c.store(0, std::memory_order_relaxed);
}

}  // namespace fedactor
