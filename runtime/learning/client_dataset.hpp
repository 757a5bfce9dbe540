#pragma once

// One client's local data: a dense feature matrix (row-major) and integer labels.

#include <cstdint>
#include <vector>

namespace fedactor {

struct client_dataset {
  uint32_t features = 0;   // columns of x
  std::vector<float> x;    // size() × features
  std::vector<int64_t> y;  // labels in [0, classes)

  uint32_t size() const { return static_cast<uint32_t>(y.size()); }
};

}  // namespace fedactor
