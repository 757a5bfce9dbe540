#include "runtime/host/system_config.hpp"

#include <caf/io/middleman.hpp>

#include "messages/registration.hpp"

namespace fedactor {

system_config::system_config() {
  register_messages(*this);
  load<caf::io::middleman>();
}

}  // namespace fedactor
