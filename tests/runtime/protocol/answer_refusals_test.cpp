// Tests of runtime/protocol/answer_refusals.*: the refused edge answers counted by reason.

#include "runtime/protocol/answer_refusals.hpp"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("answer_refusals names every reason and counts each apart, from any thread",
          "[protocol]") {
  const std::vector<std::string> names = {
      "wrong_round",   "malformed_aggregate", "wrong_dimension", "wrong_count",
      "aux_mismatch",  "norm_counts",         "not_clipped",     "overflow",
      "failure_codes", "unknown_task",        "wrong_client",    "wrong_kind",
      "wrong_samples", "non_finite",          "group_mismatch",  "refusal_counts"};
  REQUIRE(names.size() == answer_refusal_count);
  for (size_t i = 0; i < answer_refusal_count; ++i)
    CHECK(to_string(static_cast<answer_refusal>(i)) == names[i]);
  reset_answer_refusals();
  CHECK(answer_refusals_total() == 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int k = 0; k < 1000; ++k) count_answer_refusal(answer_refusal::wrong_dimension);
    });
  for (auto& t : threads) t.join();
  count_answer_refusal(answer_refusal::failure_codes);
  const auto counts = answer_refusal_counts();
  for (size_t i = 0; i < answer_refusal_count; ++i) {
    CAPTURE(names[i]);
    const auto r = static_cast<answer_refusal>(i);
    CHECK(counts[i] == (r == answer_refusal::wrong_dimension ? 4000u
                        : r == answer_refusal::failure_codes ? 1u
                                                             : 0u));
  }
  CHECK(answer_refusals_total() == 4001);
  reset_answer_refusals();
  CHECK(answer_refusals_total() == 0);
}
