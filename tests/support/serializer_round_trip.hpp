#pragma once

// Test helper: serializes a value inside a caf::message (type names and all, as the
// middleman does) and reads it back through the registered type information.

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <catch2/catch.hpp>

namespace fedactor::test {

template <class T>
T round_trip(caf::actor_system& sys, const T& x) {
  auto msg = caf::make_message(x);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(msg.save(sink));
  caf::message out;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(out.load(source));
  REQUIRE(out.size() == 1);
  REQUIRE(out.match_element<T>(0));
  return out.get_as<T>(0);
}

}  // namespace fedactor::test
