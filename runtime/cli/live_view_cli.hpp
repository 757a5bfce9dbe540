#pragma once

// The live-view options (live_view.hpp) on a command's options_description: `--http
// [HOST:]PORT`, `--http-public`, `--http-linger SECONDS`, as `fedactor run` and `fedactor
// node server` take them.

#include <string>

#include "runtime/cli/cli_options.hpp"
#include "runtime/cli/live_view.hpp"

namespace fedactor {

void add_live_view_options(po::options_description& opts);

// The options given in `vm` into `o`; false with the one-line `error` of
// take_live_view_option (e.g. "--http-linger: expected seconds in [0, 86400], got 'x'").
bool live_view_options_of(const po::variables_map& vm, live_view_options& o, std::string& error);

}  // namespace fedactor
