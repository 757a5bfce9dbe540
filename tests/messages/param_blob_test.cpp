#include "messages/param_blob.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "runtime/host/system_config.hpp"

using fedactor::param_blob;

TEST_CASE("copies of a param_blob share one buffer", "[messages]") {
  param_blob a{std::vector<float>{1, 2, 3}};
  param_blob b = a;
  CHECK(b.shares_buffer_with(a));
  CHECK(b.data() == a.data());
  CHECK(b.size() == 3);
  param_blob empty;
  CHECK(empty.empty());
  CHECK(empty.values().empty());
}

TEST_CASE("a param_blob crosses the serializer as raw bytes", "[messages]") {
  fedactor::system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.001f * i - 0.3f;
  param_blob x{values};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(x));
  // A length prefix plus exactly the float bytes: no per-element encoding.
  CHECK(buf.size() <= values.size() * sizeof(float) + 10);
  CHECK(buf.size() >= values.size() * sizeof(float));
  param_blob y;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(y));
  CHECK(y.values() == values);
}
