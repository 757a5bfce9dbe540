#pragma once

// The checks every client result passes before it is folded anywhere (edge or server): the
// answer is for the task that was sent (round, client), has the model's shape, the sample
// count our own records give the client, a finite loss and finite values. Actor-free.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "runtime/protocol/result_refusals.hpp"

namespace fedactor {

// What the task asked for and what the receiver knows.
struct update_expectation {
  uint32_t round = 0;    // round (sync) or dispatch number (async) of the task
  uint32_t client = 0;   // the client that was asked
  size_t values = 0;     // model size
  uint32_t samples = 0;  // the client's sample count as the receiver's own records have it
};

// A client's answer.
struct update_claim {
  uint32_t round = 0;
  uint32_t client = 0;
  const float* params = nullptr;
  size_t values = 0;
  uint32_t samples = 0;
  double loss = 0;
};

// Why an answer is refused: the reason counted and the text logged.
struct update_refusal {
  result_refusal reason{};
  std::string what;
};

// Empty when the answer is acceptable, else why not: the first check that fails, in the
// order round, client, shape, samples, loss, values. O(values).
std::optional<update_refusal> refuse_update(const update_claim& got,
                                            const update_expectation& want);

// Empty when the answer is acceptable, else the reason (e.g. "has 3 parameters, expected
// 2762", "non-finite parameter at index 17"): refuse_update's text. O(values).
std::optional<std::string> check_update(const update_claim& got, const update_expectation& want);

}  // namespace fedactor
