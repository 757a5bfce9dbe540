#pragma once

// The one registration block: every message type and error category of fedactor, under
// the same names on every node. Call once on each actor_system_config.

#include <caf/actor_system_config.hpp>

namespace fedactor {

void register_messages(caf::actor_system_config& cfg);

}  // namespace fedactor
