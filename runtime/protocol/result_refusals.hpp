#pragma once

// Client results an edge refused, counted by reason. Every client result passes the checks of
// runtime/protocol/update_check before it is folded; a result that fails them is refused (its
// client counts as invalid_update). Two tallies, process-wide and thread-safe like
// runtime/protocol/answer_refusals:
//
//   - counted: what the edges of this process refused (an edge node logs it at its end);
//   - reported: what edges reported to this process's server with their answers (sync:
//     edge_res, checked against the answer's failure counts; async: an async_refused answer to
//     a task in flight, one count), which the server writes into summary.json
//     (`refused_results`, docs/outputs.md).
//
// In `fedactor run` the edges and the server share the process: both tallies hold the same
// refusals (async: but those answered after the run's end), and summary.json reads only the
// reported one.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

enum class result_refusal : uint8_t {
  wrong_task,     // a result for another round (sync) or task (async) than the one asked
  wrong_client,   // for another client than the one asked (one outside the population too)
  wrong_shape,    // another number of parameters than the model's
  wrong_samples,  // a sample count that is not the client's in the edge's records
  non_finite,     // a NaN or infinite loss or parameter
};

constexpr size_t result_refusal_count = 5;

using result_refusal_counts = std::array<uint64_t, result_refusal_count>;

// "wrong_task", "wrong_client", ... (the enumerator's name).
const char* to_string(result_refusal r);

// The edge side: one more refusal for `r`, and every reason's count so far.
void count_result_refusal(result_refusal r);
result_refusal_counts counted_result_refusals();

// The server side: adds an edge's reported counts (already checked), and every reason's
// total so far.
void add_reported_result_refusals(const result_refusal_counts& counts);
result_refusal_counts reported_result_refusals();

// Counts as they travel in edge_res::refused_results: empty (none refused) or one count per
// reason. Empty optional for another length.
std::optional<result_refusal_counts> result_refusals_from_wire(const std::vector<uint32_t>& w);
std::vector<uint32_t> result_refusals_to_wire(const result_refusal_counts& counts);

// "refused client results: none" or "refused client results: 3 (wrong_shape 2, non_finite 1)":
// the reasons with a non-zero count, in enum order.
std::string result_refusals_line(const result_refusal_counts& counts);

// Both tallies back to zero (tests).
void reset_result_refusals();

}  // namespace fedactor
