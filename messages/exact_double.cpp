#include "messages/exact_double.hpp"

#include <cstdint>
#include <cstring>
#include <utility>

namespace fedactor {

namespace {

uint64_t bits_of(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

double double_of(uint64_t b) {
  double v = 0;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

}  // namespace

caf::error inspect(caf::serializer& f, double_field& x) {
  uint64_t b = bits_of(*x.value);
  return f(b);
}

caf::error inspect(caf::deserializer& f, double_field& x) {
  uint64_t b = 0;
  if (auto err = f(b)) return err;
  *x.value = double_of(b);
  return caf::none;
}

caf::error inspect(caf::serializer& f, double_map_field& x) {
  size_t n = x.values->size();
  if (auto err = f.begin_sequence(n)) return err;
  for (auto& [key, value] : *x.values) {
    std::string k = key;
    uint64_t b = bits_of(value);
    if (auto err = f(k, b)) return err;
  }
  return f.end_sequence();
}

caf::error inspect(caf::deserializer& f, double_map_field& x) {
  size_t n = 0;
  if (auto err = f.begin_sequence(n)) return err;
  x.values->clear();
  // One entry at a time, as CAF reads a map: n is the peer's word and allocates nothing.
  for (size_t i = 0; i < n; ++i) {
    std::string k;
    uint64_t b = 0;
    if (auto err = f(k, b)) return err;
    x.values->emplace(std::move(k), double_of(b));
  }
  return f.end_sequence();
}

}  // namespace fedactor
