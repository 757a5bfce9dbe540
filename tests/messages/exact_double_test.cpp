// Tests of messages/exact_double.*: doubles cross the wire bit for bit — the bytes CAF writes
// for a normal number, and infinity and NaN too, which CAF 0.17's own encoding (pack754)
// cannot write (it loops forever on infinity) or keep (NaN becomes a finite number).

#include "messages/exact_double.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "messages/async.hpp"
#include "messages/train.hpp"

using namespace fedactor;

namespace {

template <class... Ts>
std::vector<char> save(Ts&&... xs) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(std::forward<Ts>(xs)...));
  return buf;
}

template <class T>
caf::error load(const std::vector<char>& buf, T&& x) {
  caf::binary_deserializer source{nullptr, buf};
  return source(std::forward<T>(x));
}

uint64_t bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

}  // namespace

TEST_CASE("an exact double is written as the bytes CAF writes for a normal number", "[messages]") {
  for (double v : {0.05, -1.25, 3.0e300, 1.0e-300, 120.0, 0.0}) {
    double x = v;
    CHECK(save(exact(x)) == save(v));
  }
  // Big-endian IEEE 754 bits: 1.0 is 0x3ff0000000000000.
  double one = 1.0;
  CHECK(save(exact(one)) == std::vector<char>{0x3f, static_cast<char>(0xf0), 0, 0, 0, 0, 0, 0});
}

TEST_CASE("infinity and NaN cross the wire unchanged", "[messages]") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  train_res r;
  r.loss = inf;
  train_res back;
  REQUIRE_FALSE(load(save(r), back));
  CHECK(back.loss == inf);
  async_res a{4, 2, async_update{10, nan, param_blob{std::vector<float>{1.f}}, {}}};
  async_res aback;
  REQUIRE_FALSE(load(save(a), aback));
  CHECK(bits(std::get<async_update>(aback.outcome).loss) == bits(nan));
  train_settings s;
  s.lr = -inf;
  s.params = {{"prox_mu", nan}, {"x", 0.5}};
  train_settings sback;
  REQUIRE_FALSE(load(save(s), sback));
  CHECK(sback.lr == -inf);
  REQUIRE(sback.params.size() == 2);
  CHECK(std::isnan(sback.params["prox_mu"]));
  CHECK(sback.params["x"] == 0.5);
}

TEST_CASE("a double map is written as CAF writes a map of string to double", "[messages]") {
  std::map<std::string, double> m{{"a", 1.5}, {"mu", 0.01}};
  auto copy = m;
  CHECK(save(exact(m)) == save(copy));
  std::map<std::string, double> back;
  REQUIRE_FALSE(load(save(copy), exact(back)));
  CHECK(back == m);
}

// Found by fuzz/train_settings.cpp (fuzz/corpus/train_settings/regression-infinite-lr): a
// momentum whose exponent bits are all ones was read by CAF as infinity, and writing it again
// (an edge forwards its settings to the client hosts) never returned. Read exactly, it is the
// NaN those bits are.
TEST_CASE("train_settings with a momentum CAF read as infinity is written again", "[messages]") {
  const std::vector<char> input{-1, -1, -1, -1, -1, -1, -1, -1, -1, 0x02, 0x01, 0, 0, 0, 0, -1, -1,
                                -1, -1, -1, -1, -1, -1, 0, 0, 0, 0x3f, 0, 0, 0,
                                // compression: kind none, block 0, density 0
                                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  train_settings s;
  REQUIRE_FALSE(load(input, s));
  CHECK(s.epochs == 0xffffffffu);
  CHECK(s.batch_size == 0xffffffffu);
  CHECK(bits(s.lr) == 0xff020100000000ffull);
  CHECK(std::isnan(s.momentum));
  CHECK(s.algorithm.empty());
  CHECK(s.params.empty());
  auto again = save(s);
  train_settings back;
  REQUIRE_FALSE(load(again, back));
  CHECK(save(back) == again);
}
