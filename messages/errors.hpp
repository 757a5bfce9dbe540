#pragma once

// fedactor's error codes, registered with CAF's error machinery (category atom "fedactor").

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "runtime/protocol/failure.hpp"

namespace fedactor {

enum class errc : uint8_t {
  none = 0,
  training_failed,  // local training threw (LibTorch error, bad data)
  invalid_update,   // wrong shape, non-finite values, a sample count or id not the task's
  bad_request,      // a request that does not fit the receiver's state
  host_lost,        // the client host holding the task is gone (its process died or hung)
  client_timeout,   // the client did not answer before its task's deadline
  model_missing,    // a client host holds no model matching a task's reference (version, digest)
};

const char* to_string(errc x);

using errc_atom = caf::atom_constant<caf::atom("fedactor")>;

caf::error make_error(errc x);
caf::error make_error(errc x, std::string context);

// The failure code a failed client task counts under: CAF's request_timeout and
// client_timeout -> timeout, host_lost -> edge_lost, invalid_update -> invalid_update,
// anything else (training_failed, bad_request, a client actor that died:
// request_receiver_down) -> client_error.
failure_code failure_code_of(const caf::error& err);

// The error an edge answers for a task that failed with `code` (the inverse of
// failure_code_of): timeout -> client_timeout, edge_lost -> host_lost, invalid_update ->
// invalid_update, otherwise training_failed.
caf::error make_failure(failure_code code, std::string detail);

// Renders any caf::error, ours with its name and context, CAF's through CAF.
std::string describe(const caf::error& err);

}  // namespace fedactor
