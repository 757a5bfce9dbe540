#pragma once

// The actor-system configuration every fedactor process uses: the message vocabulary
// registered, the io middleman loaded (for distributed nodes), and options under "fl".

#include <caf/actor_system_config.hpp>

namespace fedactor {

class system_config : public caf::actor_system_config {
 public:
  system_config();
};

}  // namespace fedactor
