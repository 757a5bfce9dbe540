#include "messages/wire_bounds.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/sec.hpp>

#include "messages/wire_rejects.hpp"

namespace fedactor {

std::optional<size_t> bytes_left(caf::deserializer& f) {
  if (auto* bd = dynamic_cast<caf::binary_deserializer*>(&f)) return bd->remaining();
  return std::nullopt;
}

bool fits_in(caf::deserializer& f, size_t count, size_t item_size) {
  const size_t limit = bytes_left(f).value_or(max_field_bytes);
  return item_size == 0 || count <= limit / item_size;
}

caf::error inspect(caf::serializer& f, byte_field& x) {
  size_t n = x.bytes->size();
  if (auto err = f.begin_sequence(n)) return err;
  if (n > 0)
    if (auto err = f.apply_raw(n, x.bytes->data())) return err;
  return f.end_sequence();
}

caf::error inspect(caf::deserializer& f, byte_field& x) {
  size_t n = 0;
  if (auto err = f.begin_sequence(n)) return err;
  if (!fits_in(f, n, 1)) {
    count_wire_reject(wire_reject::byte_field_length);
    return caf::make_error(caf::sec::end_of_stream,
                           "a byte field declaring " + std::to_string(n) + " bytes");
  }
  x.bytes->resize(n);
  if (n > 0)
    if (auto err = f.apply_raw(n, x.bytes->data())) return err;
  return f.end_sequence();
}

}  // namespace fedactor
