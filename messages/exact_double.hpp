#pragma once

// Doubles on the wire, bit for bit. CAF 0.17 writes a double through caf::detail::pack754,
// which loops forever on ±infinity (it halves the value until it is below 2) and turns NaN
// into an arbitrary finite number (a float-to-integer conversion out of range); reading an
// exponent of all ones gives ±infinity. So a node writing an infinity it computed or received
// (an edge forwarding a client's loss) would hang, and a NaN would cross the wire as a finite
// value. Message types write their doubles through these instead: the IEEE 754 bits as a
// uint64, which are the bytes pack754 writes for every normal number (the wire format is
// unchanged for them), read back exactly (NaN stays NaN, infinity infinity).

#include <map>
#include <string>
#include <type_traits>

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/serializer.hpp>

namespace fedactor {

struct double_field {
  double* value;
};

// A std::map<std::string, double> field: written as CAF writes a map (its size, then each
// key and value), the values through double_field.
struct double_map_field {
  std::map<std::string, double>* values;
};

inline double_field exact(double& v) {
  return double_field{&v};
}

inline double_map_field exact(std::map<std::string, double>& m) {
  return double_map_field{&m};
}

caf::error inspect(caf::serializer& f, double_field& x);
caf::error inspect(caf::deserializer& f, double_field& x);
caf::error inspect(caf::serializer& f, double_map_field& x);
caf::error inspect(caf::deserializer& f, double_map_field& x);

// For deep_to_string and other inspectors: the value(s) as they are.
template <class Inspector>
typename std::enable_if<!std::is_base_of<caf::serializer, Inspector>::value &&
                            !std::is_base_of<caf::deserializer, Inspector>::value,
                        typename Inspector::result_type>::type
inspect(Inspector& f, double_field& x) {
  return f(*x.value);
}

template <class Inspector>
typename std::enable_if<!std::is_base_of<caf::serializer, Inspector>::value &&
                            !std::is_base_of<caf::deserializer, Inspector>::value,
                        typename Inspector::result_type>::type
inspect(Inspector& f, double_map_field& x) {
  return f(*x.values);
}

}  // namespace fedactor
