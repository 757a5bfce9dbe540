#pragma once

// Messages from another process that fedactor's deserializers refused, counted by reason.
// CAF drops a message whose deserialization fails without telling the receiver, so the
// deserializers count each refusal here (process-wide, thread-safe) and a node reports the
// counts when its run ends (wire_rejects_line).

#include <array>
#include <cstdint>
#include <string>

namespace fedactor {

enum class wire_reject : uint8_t {
  param_count,        // a param_blob declaring more floats than the bytes left
  byte_field_length,  // a byte field (an aggregate) declaring more bytes than the bytes left
  outcome_tag,        // an async_res with an unknown outcome tag
};

constexpr size_t wire_reject_count = 3;

// "param_count", "byte_field_length", "outcome_tag".
const char* to_string(wire_reject r);

// Adds one refusal for `r`.
void count_wire_reject(wire_reject r);

// Refusals counted for `r` since the process started (or the last reset).
uint64_t wire_rejects(wire_reject r);

// Every reason's count, indexed by the enum's value.
std::array<uint64_t, wire_reject_count> wire_reject_counts();

// Sum over the reasons.
uint64_t wire_rejects_total();

// "undeserializable messages: none" or
// "undeserializable messages: 3 (param_count 2, byte_field_length 1)" — the reasons with a
// non-zero count, in enum order.
std::string wire_rejects_line();

// Back to zero (tests).
void reset_wire_rejects();

}  // namespace fedactor
