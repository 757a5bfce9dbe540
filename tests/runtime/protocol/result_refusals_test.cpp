// Tests of runtime/protocol/result_refusals.*: client results refused at edges, by reason.

#include "runtime/protocol/result_refusals.hpp"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

TEST_CASE("result_refusals names every reason and keeps the counted and reported tallies apart",
          "[protocol]") {
  const std::vector<std::string> names = {"wrong_task", "wrong_client", "wrong_shape",
                                          "wrong_samples", "non_finite"};
  REQUIRE(names.size() == result_refusal_count);
  for (size_t i = 0; i < result_refusal_count; ++i)
    CHECK(to_string(static_cast<result_refusal>(i)) == names[i]);
  reset_result_refusals();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([] {
      for (int k = 0; k < 500; ++k) count_result_refusal(result_refusal::wrong_shape);
    });
  for (auto& t : threads) t.join();
  count_result_refusal(result_refusal::non_finite);
  CHECK(counted_result_refusals() == result_refusal_counts{0, 0, 2000, 0, 1});
  CHECK(reported_result_refusals() == result_refusal_counts{});
  add_reported_result_refusals({1, 0, 0, 3, 0});
  add_reported_result_refusals({1, 2, 0, 0, 0});
  CHECK(reported_result_refusals() == result_refusal_counts{2, 2, 0, 3, 0});
  CHECK(counted_result_refusals() == result_refusal_counts{0, 0, 2000, 0, 1});
  reset_result_refusals();
  CHECK(counted_result_refusals() == result_refusal_counts{});
  CHECK(reported_result_refusals() == result_refusal_counts{});
}

TEST_CASE("result_refusals travel as nothing or one count per reason, other lengths refused",
          "[protocol]") {
  CHECK(result_refusals_to_wire({}).empty());
  CHECK(result_refusals_to_wire({0, 3, 0, 0, 1}) == std::vector<uint32_t>{0, 3, 0, 0, 1});
  CHECK(result_refusals_from_wire({}) == result_refusal_counts{});
  CHECK(result_refusals_from_wire({0, 3, 0, 0, 1}) == result_refusal_counts{0, 3, 0, 0, 1});
  CHECK_FALSE(result_refusals_from_wire({1}));
  CHECK_FALSE(result_refusals_from_wire({0, 0, 0, 0, 0, 0}));
}

TEST_CASE("result_refusals_line names the reasons with a count, in order", "[protocol]") {
  CHECK(result_refusals_line({}) == "refused client results: none");
  CHECK(result_refusals_line({0, 0, 2, 0, 1}) ==
        "refused client results: 3 (wrong_shape 2, non_finite 1)");
  CHECK(result_refusals_line({4, 0, 0, 0, 0}) == "refused client results: 4 (wrong_task 4)");
}
