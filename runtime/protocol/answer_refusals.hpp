#pragma once

// Edge answers the server refused, counted by reason. A sync edge's answer is checked against
// the server's own record of its batch before it is merged (runtime/protocol/sync_round); an
// async edge's answer against the record of its task (runtime/protocol/async_loop). An answer
// that does not fit is refused whole and its clients count as invalid_update. These
// counters say which check refused it (process-wide, thread-safe, like messages/wire_rejects);
// a server node writes them into summary.json (docs/outputs.md).

#include <array>
#include <cstdint>
#include <string>

namespace fedactor {

enum class answer_refusal : uint8_t {
  wrong_round,          // answered another round than the batch's
  malformed_aggregate,  // the aggregate's bytes are no accumulator
  wrong_dimension,      // an aggregate of another number of values than the model's
  wrong_count,          // updates + reported failures != the batch's clients
  aux_mismatch,         // an auxiliary aggregate that does not match the updates
  norm_counts,          // norm bound counts that do not fit the updates and failures
  not_clipped,          // DP-FedAvg: an aggregate that cannot be of clipped updates
  overflow,             // sums that would overflow the round's
  failure_codes,        // failure counts of another number of codes than the server knows
  // Async answers (the wrong_dimension above also counts an async update of another size).
  unknown_task,    // names a task (seq) other than the one it answers
  wrong_client,    // for another client than the task's
  wrong_kind,      // an outcome the task did not ask for (an update for a pre-aggregated task,
                   // held or a group aggregate for a forwarded one)
  wrong_samples,   // a sample count that is not the registry's for the client
  non_finite,      // an update with a NaN or infinite value or loss
  group_mismatch,  // held or a group aggregate that does not fit the server's group record
  // Sync again.
  refusal_counts,  // counts of refused client results of another length than the reasons, or
                   // more of them than the batch's invalid_update failures
};

constexpr size_t answer_refusal_count = 16;

// "wrong_round", "malformed_aggregate", ... (the enumerator's name).
const char* to_string(answer_refusal r);

void count_answer_refusal(answer_refusal r);

// Every reason's count since the process started (or the last reset), by the enum's value.
std::array<uint64_t, answer_refusal_count> answer_refusal_counts();

uint64_t answer_refusals_total();

// Back to zero (tests).
void reset_answer_refusals();

}  // namespace fedactor
