#pragma once

// Why a client task produced no usable update, as a code: records count failures per code
// (metrics.jsonl "failures_by"), the free-text detail ("client 17: non-finite loss") is kept
// for logs and the first few reasons of a record. One documented enum, compared by value,
// as CAF's own sec codes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fedactor {

enum class failure_code : uint8_t {
  timeout = 0,    // the client (or its edge) did not answer before its deadline
  edge_lost = 1,  // the edge or client host holding the task is gone (died, hung, dropped)
  invalid_update =
      2,             // wrong shape, non-finite values, a sample count or id that is not the task's
  stale = 3,         // async: staleness above the threshold, discarded by design (FedBuff)
  client_error = 4,  // local training failed (LibTorch error, no data), or the client refused
  unavailable = 5,   // the client left or its region went down while its task was out
                     // (scripted events, docs/scenarios.md "Events")
};

constexpr size_t failure_code_count = 6;

// "timeout", "edge_lost", "invalid_update", "stale", "client_error", "unavailable"; "?"
// outside the enum.
const char* to_string(failure_code x);

// The code named `name` (as to_string writes it); nullopt for any other text.
std::optional<failure_code> failure_code_from(const std::string& name);

// One failed task: which client, why (code), and the detail for logs.
struct failure {
  uint32_t client = 0;
  failure_code code = failure_code::client_error;
  std::string detail;
};

// Failures counted per code. `total()` counts every code but `stale`: a stale update is
// discarded by design and reported apart (it is in by_code and in stale_discarded).
struct failure_counts {
  std::array<uint32_t, failure_code_count> by_code{};

  void add(failure_code c, uint32_t n = 1) { by_code[static_cast<size_t>(c)] += n; }
  uint32_t of(failure_code c) const { return by_code[static_cast<size_t>(c)]; }
  uint32_t total() const;
  void merge(const failure_counts& other);
  void clear() { by_code.fill(0); }

  // Wire form: one count per code, in code order. from_wire refuses a vector longer than
  // failure_code_count (a peer that knows more codes than we do) with nullopt; a shorter one
  // (an older peer) counts the missing codes as 0.
  std::vector<uint32_t> to_wire() const;
  static std::optional<failure_counts> from_wire(const std::vector<uint32_t>& counts);

  bool operator==(const failure_counts& o) const { return by_code == o.by_code; }
};

}  // namespace fedactor
