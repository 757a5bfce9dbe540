#include "messages/param_blob.hpp"

#include <cstring>
#include <string>

#include <caf/sec.hpp>

#include "messages/wire_bounds.hpp"
#include "messages/wire_rejects.hpp"

namespace fedactor {

const std::vector<float>& param_blob::values() const {
  static const std::vector<float> empty_values;
  return values_ ? *values_ : empty_values;
}

caf::error inspect(caf::serializer& f, param_blob& x) {
  size_t n = x.size();
  if (auto err = f.begin_sequence(n)) return err;
  if (n > 0) {
    if (auto err = f.apply_raw(n * sizeof(float), const_cast<float*>(x.data()))) return err;
  }
  return f.end_sequence();
}

caf::error inspect(caf::deserializer& f, param_blob& x) {
  size_t n = 0;
  if (auto err = f.begin_sequence(n)) return err;
  // The count is the peer's word: checked against the bytes left before allocating.
  if (!fits_in(f, n, sizeof(float))) {
    count_wire_reject(wire_reject::param_count);
    return caf::make_error(caf::sec::end_of_stream,
                           "parameters declaring " + std::to_string(n) + " values");
  }
  std::vector<float> values(n);
  if (n > 0) {
    if (auto err = f.apply_raw(n * sizeof(float), values.data())) return err;
  }
  if (auto err = f.end_sequence()) return err;
  x = param_blob{std::move(values)};
  return caf::none;
}

}  // namespace fedactor
