#pragma once

// A version of the global model as the protocol loops hand it out: immutable and shared, so
// every task of a round (and every record an observer evaluates) refers to one buffer. The
// server shell wraps it into a param_blob for messages without copying.

#include <memory>
#include <vector>

namespace fedactor {

using model_snapshot = std::shared_ptr<const std::vector<float>>;

inline model_snapshot make_snapshot(std::vector<float> values) {
  return std::make_shared<const std::vector<float>>(std::move(values));
}

}  // namespace fedactor
