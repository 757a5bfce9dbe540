#pragma once

// A checkpoint that cannot be used (missing, damaged, another run's, or a run directory that
// does not match it): one line naming what and where. `fedactor run --resume` exits with
// status 2 on it; nothing starts afresh instead.

#include <stdexcept>

namespace fedactor {

class checkpoint_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace fedactor
