#include "runtime/compression/int8_codec.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/compression/update_codec.hpp"
#include "runtime/math/rng.hpp"

using namespace fedactor;

namespace {

float scale_at(const std::vector<char>& body, size_t offset) {
  return codec_bytes::get_f32(body.data() + offset);
}

}  // namespace

TEST_CASE("int8: per-block scale max|x|/127 and stochastic rounding from the stream",
          "[compression]") {
  // Block 4: [127, -63.5, 0, 10.25] has scale 1; [127/128, 0.5] has scale 2^-7 (exact).
  const std::vector<float> x{127.0f, -63.5f, 0.0f, 10.25f, 0.9921875f, 0.5f};
  std::vector<char> body;
  const uint64_t stream = 77;
  int8_encode(x.data(), x.size(), 4, stream, body);
  REQUIRE(body.size() == int8_body_bytes(6, 4));
  REQUIRE(body.size() == 4 + 2 * 4 + 6);
  CHECK(codec_bytes::get_u32(body.data()) == 4);
  CHECK(scale_at(body, 4) == 1.0f);
  // The draws, one per value in order: -63.5 rounds up (to -63) when u < 0.5, 10.25 when u < 0.25.
  rng r{stream};
  const double u0 = r.uniform(), u1 = r.uniform(), u2 = r.uniform(), u3 = r.uniform();
  (void)u0;
  (void)u2;
  CHECK(static_cast<int8_t>(body[8]) == 127);
  CHECK(static_cast<int8_t>(body[9]) == (u1 < 0.5 ? -63 : -64));
  CHECK(static_cast<int8_t>(body[10]) == 0);
  CHECK(static_cast<int8_t>(body[11]) == (u3 < 0.25 ? 11 : 10));
  CHECK(scale_at(body, 12) == 0.0078125f);
  CHECK(static_cast<int8_t>(body[16]) == 127);  // whole numbers of units: no draw matters
  CHECK(static_cast<int8_t>(body[17]) == 64);

  std::vector<float> back(6);
  REQUIRE_FALSE(int8_decode(body.data(), body.size(), 6, 4, back.data()));
  CHECK(back[0] == 127.0f);
  CHECK(back[1] == (u1 < 0.5 ? -63.0f : -64.0f));
  CHECK(back[2] == 0.0f);
  CHECK(back[3] == (u3 < 0.25 ? 11.0f : 10.0f));
  CHECK(back[4] == 0.9921875f);
  CHECK(back[5] == 0.5f);
}

TEST_CASE("int8: stochastic rounding is unbiased over streams", "[compression]") {
  // 0.25 in a block of max 1: 31.75 units, 32 with probability 3/4.
  const std::vector<float> x{1.0f, 0.25f};
  double sum = 0;
  const int trials = 20000;
  for (int s = 0; s < trials; ++s) {
    std::vector<char> body;
    int8_encode(x.data(), 2, 256, static_cast<uint64_t>(s), body);
    const int q = static_cast<int8_t>(body[9]);
    REQUIRE((q == 31 || q == 32));
    sum += q;
  }
  // Mean 31.75, standard error sqrt(3/16 / 20000) = 0.003.
  CHECK(std::fabs(sum / trials - 31.75) < 0.02);
}

TEST_CASE("int8: the same stream gives the same bytes, another stream other bytes",
          "[compression]") {
  std::vector<float> x(300);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  std::vector<char> a, b, c;
  int8_encode(x.data(), x.size(), 256, 5, a);
  int8_encode(x.data(), x.size(), 256, 5, b);
  int8_encode(x.data(), x.size(), 256, 6, c);
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("int8: zero and non-finite blocks", "[compression]") {
  const std::vector<float> x{0.0f, 0.0f, 1.0f, std::numeric_limits<float>::quiet_NaN()};
  std::vector<char> body;
  int8_encode(x.data(), 4, 2, 1, body);
  CHECK(scale_at(body, 4) == 0.0f);
  CHECK(std::isnan(scale_at(body, 10)));
  std::vector<float> back(4);
  REQUIRE_FALSE(int8_decode(body.data(), body.size(), 4, 2, back.data()));
  CHECK(back[0] == 0.0f);
  CHECK(back[1] == 0.0f);
  CHECK(std::isnan(back[2]));  // the whole block: the update checks refuse it
  CHECK(std::isnan(back[3]));
}

TEST_CASE("int8: malformed bodies are refused with a reason", "[compression]") {
  const std::vector<float> x{1, 2, 3, 4, 5};
  std::vector<char> body;
  int8_encode(x.data(), 5, 2, 1, body);  // 3 blocks: 4 + 12 + 5 bytes
  REQUIRE(body.size() == 21);
  std::vector<float> back(5);
  // Another block size than the run's: a block count mismatch.
  auto bad = int8_decode(body.data(), body.size(), 5, 4, back.data());
  REQUIRE(bad);
  CHECK(*bad == "int8 blocks of 2 values, expected 4");
  auto other = body;
  other[0] = 3;  // claims blocks of 3: 2 blocks, 17 bytes expected
  bad = int8_decode(other.data(), other.size(), 5, 3, back.data());
  REQUIRE(bad);
  CHECK(*bad == "int8 body of 21 bytes, expected 17 (2 blocks)");
  bad = int8_decode(body.data(), 20, 5, 2, back.data());
  REQUIRE(bad);
  CHECK(*bad == "int8 body of 20 bytes, expected 21 (3 blocks)");
  other = body;
  other[20] = static_cast<char>(-128);
  bad = int8_decode(other.data(), other.size(), 5, 2, back.data());
  REQUIRE(bad);
  CHECK(*bad == "int8 value -128 at index 4 (range is ±127)");
}
