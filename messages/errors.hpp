#pragma once

// fedactor's error codes, registered with CAF's error machinery (category atom "fedactor").

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace fedactor {

enum class errc : uint8_t {
  none = 0,
  training_failed,  // local training threw (LibTorch error, bad data)
  invalid_update,   // wrong shape, non-finite values, bad sample count
  client_timeout,   // a client did not answer before its deadline
  edge_failed,      // an edge did not answer or answered with an error
  no_clients,       // nothing to train: empty selection
  bad_request,      // a request that does not fit the receiver's state
};

const char* to_string(errc x);

using errc_atom = caf::atom_constant<caf::atom("fedactor")>;

caf::error make_error(errc x);
caf::error make_error(errc x, std::string context);

// Renders any caf::error, ours with its name and context, CAF's through CAF.
std::string describe(const caf::error& err);

}  // namespace fedactor
