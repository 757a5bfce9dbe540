#pragma once

// The parameter payload: an immutable, reference-counted buffer of float32 values.
// Copies of a param_blob share one buffer (nothing is copied between actors in one
// process); on the wire it travels as raw bytes (host byte order, little-endian on x86).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/serializer.hpp>

namespace fedactor {

class param_blob {
 public:
  param_blob() = default;
  explicit param_blob(std::vector<float> values)
      : values_(std::make_shared<const std::vector<float>>(std::move(values))) {}
  // Shares an existing buffer (a model snapshot of the protocol loops): no copy.
  explicit param_blob(std::shared_ptr<const std::vector<float>> shared)
      : values_(std::move(shared)) {}

  const float* data() const { return values_ ? values_->data() : nullptr; }
  size_t size() const { return values_ ? values_->size() : 0; }
  bool empty() const { return size() == 0; }
  const std::vector<float>& values() const;

  // The shared buffer itself (null when empty-constructed).
  const std::shared_ptr<const std::vector<float>>& shared() const { return values_; }

  // True when both refer to the same buffer (no copy was made).
  bool shares_buffer_with(const param_blob& other) const { return values_ == other.values_; }

  friend caf::error inspect(caf::serializer& f, param_blob& x);
  friend caf::error inspect(caf::deserializer& f, param_blob& x);

 private:
  std::shared_ptr<const std::vector<float>> values_;
};

// For deep_to_string and other read-only inspectors: a short summary, not the values.
template <class Inspector>
typename std::enable_if<Inspector::reads_state &&
                            !std::is_base_of<caf::serializer, Inspector>::value,
                        typename Inspector::result_type>::type
inspect(Inspector& f, param_blob& x) {
  return f(caf::meta::type_name("param_blob"), std::to_string(x.size()) + " floats");
}

}  // namespace fedactor
