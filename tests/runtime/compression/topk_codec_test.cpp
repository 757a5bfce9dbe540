#include "runtime/compression/topk_codec.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/compression/update_codec.hpp"

using namespace fedactor;

namespace {

std::vector<uint32_t> indices_of(const std::vector<char>& body) {
  std::vector<uint32_t> out;
  const uint32_t k = codec_bytes::get_u32(body.data());
  for (uint32_t j = 0; j < k; ++j) out.push_back(codec_bytes::get_u32(body.data() + 4 + 8 * j));
  return out;
}

}  // namespace

TEST_CASE("topk: k = ceil(density n), at least 1, at most n", "[compression]") {
  CHECK(topk_count(100, 0.01) == 1);
  CHECK(topk_count(2762, 0.01) == 28);
  CHECK(topk_count(10, 0.25) == 3);
  CHECK(topk_count(10, 1e-9) == 1);
  CHECK(topk_count(10, 1.0) == 10);
  CHECK(topk_body_bytes(2762, 0.01) == 4 + 28 * 8);
}

TEST_CASE("topk: the largest magnitudes in index order, ties to the lower index", "[compression]") {
  const std::vector<float> x{0.5f, -3.0f, 3.0f, 1.0f, -0.5f, 2.0f};
  std::vector<char> body;
  topk_encode(x.data(), x.size(), 0.5, body);
  CHECK(indices_of(body) == std::vector<uint32_t>{1, 2, 5});
  std::vector<float> back(6, 9.0f);
  REQUIRE_FALSE(topk_decode(body.data(), body.size(), 6, 0.5, back.data()));
  CHECK(back == std::vector<float>{0, -3, 3, 0, 0, 2});

  // Three equal magnitudes for two places: the two lower indices.
  const std::vector<float> ties{1.0f, -2.0f, 2.0f, 2.0f};
  body.clear();
  topk_encode(ties.data(), 4, 0.5, body);
  CHECK(indices_of(body) == std::vector<uint32_t>{1, 2});
}

TEST_CASE("topk: a non-finite value is sent first", "[compression]") {
  const std::vector<float> x{5.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f};
  std::vector<char> body;
  topk_encode(x.data(), 3, 0.1, body);
  CHECK(indices_of(body) == std::vector<uint32_t>{1});
  std::vector<float> back(3);
  REQUIRE_FALSE(topk_decode(body.data(), body.size(), 3, 0.1, back.data()));
  CHECK(std::isnan(back[1]));
}

TEST_CASE("topk: malformed bodies are refused with a reason", "[compression]") {
  const std::vector<float> x{1, 2, 3, 4};
  std::vector<char> body;
  topk_encode(x.data(), 4, 0.5, body);  // indices 2, 3
  std::vector<float> back(4);
  auto bad = topk_decode(body.data(), body.size() - 1, 4, 0.5, back.data());
  REQUIRE(bad);
  CHECK(*bad == "topk body of 19 bytes, expected 20");
  bad = topk_decode(body.data(), body.size(), 4, 0.75, back.data());
  REQUIRE(bad);
  CHECK(*bad == "topk payload of 2 pairs, expected 3");
  auto other = body;
  other[4 + 8] = 4;  // second index 4: past the end
  bad = topk_decode(other.data(), other.size(), 4, 0.5, back.data());
  REQUIRE(bad);
  CHECK(*bad == "topk index 4 out of range (model of 4 values)");
  other = body;
  other[4 + 8] = 2;  // the same index twice
  bad = topk_decode(other.data(), other.size(), 4, 0.5, back.data());
  REQUIRE(bad);
  CHECK(*bad == "topk index 2 not above the previous one");
}
