#pragma once

// Atoms of the fedactor vocabulary.

#include <caf/atom.hpp>

namespace fedactor {

using run_atom = caf::atom_constant<caf::atom("run")>;               // server: run the scenario
using stop_atom = caf::atom_constant<caf::atom("stop")>;             // server: end the run now
using next_round_atom = caf::atom_constant<caf::atom("nextround")>;  // server: internal tick
// Clients: build local data now, before the first task (client, edge, client host).
using prepare_atom = caf::atom_constant<caf::atom("prepare")>;

}  // namespace fedactor
