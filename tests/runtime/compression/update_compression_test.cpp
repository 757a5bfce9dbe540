#include "runtime/compression/update_compression.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

compression_settings topk(double density) {
  compression_settings s;
  s.kind = compression_kind::topk;
  s.density = density;
  return s;
}

}  // namespace

TEST_CASE("error feedback carries the top-k residual across two rounds", "[compression]") {
  const auto s = topk(0.25);  // k = 1 of 4
  const std::vector<float> base(4, 0.0f);
  // Round 1: Δ = [1, 0.25, -0.5, 0.125], no residual yet: index 0 is sent.
  const std::vector<float> p1{1.0f, 0.25f, -0.5f, 0.125f};
  auto r1 = compress_update(s, base.data(), p1.data(), 4, nullptr, 1);
  CHECK(r1.residual == std::vector<float>{0.0f, 0.25f, -0.5f, 0.125f});
  std::vector<float> got;
  REQUIRE_FALSE(decompress_update(s, r1.bytes, base.data(), 4, got));
  CHECK(got == std::vector<float>{1.0f, 0.0f, 0.0f, 0.0f});
  // Round 2: Δ = [0, 0.25, 0, 0] plus the residual = [0, 0.5, -0.5, 0.125]: a tie of 0.5 and
  // -0.5 goes to index 1.
  const std::vector<float> p2{0.0f, 0.25f, 0.0f, 0.0f};
  auto r2 = compress_update(s, base.data(), p2.data(), 4, r1.residual.data(), 2);
  CHECK(r2.residual == std::vector<float>{0.0f, 0.0f, -0.5f, 0.125f});
  REQUIRE_FALSE(decompress_update(s, r2.bytes, base.data(), 4, got));
  CHECK(got == std::vector<float>{0.0f, 0.5f, 0.0f, 0.0f});
}

TEST_CASE("the residual keeps what the fold's float model cannot hold", "[compression]") {
  // base 1, Δ' = 3e-8: 1 + 3e-8 rounds to 1 in float, so the fold sees 0 and the residual
  // keeps all of it.
  const auto s = topk(1.0);
  const std::vector<float> base{1.0f}, params{1.0f}, residual{3e-8f};
  auto r = compress_update(s, base.data(), params.data(), 1, residual.data(), 0);
  CHECK(r.residual == std::vector<float>{3e-8f});
  std::vector<float> got;
  REQUIRE_FALSE(decompress_update(s, r.bytes, base.data(), 1, got));
  CHECK(got == std::vector<float>{1.0f});
}

TEST_CASE("a non-finite update drops the residual and stays non-finite", "[compression]") {
  const auto s = topk(0.5);
  const std::vector<float> base{0.0f, 0.0f}, params{std::numeric_limits<float>::quiet_NaN(), 1};
  auto r = compress_update(s, base.data(), params.data(), 2, nullptr, 0);
  CHECK(r.residual.empty());
  std::vector<float> got;
  REQUIRE_FALSE(decompress_update(s, r.bytes, base.data(), 2, got));
  CHECK(std::isnan(got[0]));
}

TEST_CASE("decompress refuses a payload of the wrong length before decoding", "[compression]") {
  compression_settings s;
  s.kind = compression_kind::int8;
  s.block = 256;
  const std::vector<float> base{0, 0, 0}, params{1, 2, 3};
  auto r = compress_update(s, base.data(), params.data(), 3, nullptr, 4);
  CHECK(r.residual.empty());  // error feedback is top-k's
  std::vector<float> got;
  r.bytes.push_back(0);
  auto bad = decompress_update(s, r.bytes, base.data(), 3, got);
  REQUIRE(bad);
  CHECK(*bad == "compressed update of 17 bytes, expected 16 (int8, 3 values)");
  CHECK(got.empty());
}

TEST_CASE("compression settings from another process are checked", "[compression]") {
  compression_settings s;
  CHECK_FALSE(compression_settings_problem(s));
  s.kind = static_cast<compression_kind>(9);
  CHECK(*compression_settings_problem(s) == "compression kind 9 unknown");
  s.kind = compression_kind::int8;
  s.block = 0;
  CHECK(*compression_settings_problem(s) == "int8 block size 0");
  s.kind = compression_kind::topk;
  s.density = 0;
  CHECK(*compression_settings_problem(s) == "topk density 0.000000 outside (0, 1]");
}
