#pragma once

// Lengths read from the wire are checked against the bytes actually left before anything is
// allocated. CAF 0.17 resizes a byte vector to the length a message declares before it reads
// a byte (caf::data_processor::apply_sequence), so a few bytes declaring 2^32 would make a
// node allocate (and zero) 4 GiB, or abort on std::bad_alloc on a middleman thread. Message
// types read their length-prefixed fields through these instead.

#include <cstddef>
#include <optional>
#include <type_traits>
#include <vector>

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/serializer.hpp>

namespace fedactor {

// The bytes left in `f` when it is CAF's binary deserializer (every message from another
// process is read by one); nullopt for another kind.
std::optional<size_t> bytes_left(caf::deserializer& f);

// The most bytes a length-prefixed field may declare when bytes_left cannot say (1 GiB).
constexpr size_t max_field_bytes = size_t{1} << 30;

// True when a field of `count` items of `item_size` bytes each fits what is left in `f`.
bool fits_in(caf::deserializer& f, size_t count, size_t item_size);

// A std::vector<char> message field, written as CAF writes a byte vector (its length, then
// the bytes) and read with the length checked by fits_in before the vector is resized.
struct byte_field {
  std::vector<char>* bytes;
};

inline byte_field bounded(std::vector<char>& v) {
  return byte_field{&v};
}

caf::error inspect(caf::serializer& f, byte_field& x);
caf::error inspect(caf::deserializer& f, byte_field& x);

// For deep_to_string and other inspectors: the bytes as a vector.
template <class Inspector>
typename std::enable_if<!std::is_base_of<caf::serializer, Inspector>::value &&
                            !std::is_base_of<caf::deserializer, Inspector>::value,
                        typename Inspector::result_type>::type
inspect(Inspector& f, byte_field& x) {
  return f(*x.bytes);
}

}  // namespace fedactor
