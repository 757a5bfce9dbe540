#pragma once

// One client's local data (or a test split): a dense feature matrix (row-major) and
// integer labels, with the per-sample shape the rows flatten (e.g. {1, 28, 28}).

#include <cstdint>
#include <vector>

namespace fedactor {

struct client_dataset {
  uint32_t features = 0;       // columns of x
  std::vector<float> x;        // size() × features
  std::vector<int64_t> y;      // labels in [0, classes)
  std::vector<int64_t> shape;  // per-sample shape, product = features; empty = {features}

  uint32_t size() const { return static_cast<uint32_t>(y.size()); }
};

}  // namespace fedactor
