#pragma once

// `fedactor node server|edge|clients …`: the distributed roles (docs/deployment.md).
//
//   node server  --listen HOST:PORT SCENARIO.yaml [--set k=v]... [--out DIR] [--quiet]
//   node edge    --server HOST:PORT --listen HOST:PORT --id N [--region R] [--capacity N]
//                [--trainers N] [--wait-hosts N]
//   node clients --edge HOST:PORT --ids A-B [--max-live N] [--trainers N]
//   every role:  [--tls-cert F --tls-key F --tls-ca F] [--heartbeat D] [--connection-timeout D]
//                [--join-timeout D] [--threads N]

#include <ostream>
#include <string>
#include <vector>

#include "runtime/cli/cli_options.hpp"

namespace fedactor {

// The options of `fedactor node ROLE` for role "server", "edge" or "clients" (parse_cli; the
// bash completion reads them too).
cli_spec node_cli_spec(const std::string& role);

// Exit codes: 0 done, 2 bad arguments / refused, 1 the run or the connection failed.
// --help and argument errors go to `out` / `err`; the node itself logs to stdout / stderr.
int node_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int node_command(const std::vector<std::string>& args);

}  // namespace fedactor
