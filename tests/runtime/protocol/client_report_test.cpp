#include <catch2/catch.hpp>

#include <vector>

#include "runtime/protocol/client_report.hpp"

using namespace fedactor;

TEST_CASE("client reports round-trip through their bytes", "[protocol][client_report]") {
  std::vector<client_report> r{{3, 10, 0.5, 2.25}, {9, 4, 1.0 / 3.0, 0.0}};
  const auto bytes = encode_client_reports(r);
  CHECK(bytes.size() == 8 + 2 * 24);
  auto back = decode_client_reports(bytes.data(), bytes.size());
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].client == 3);
  CHECK((*back)[0].samples == 10);
  CHECK((*back)[0].loss == 0.5);
  CHECK((*back)[0].sq_norm == 2.25);
  CHECK((*back)[1].loss == 1.0 / 3.0);
}

TEST_CASE("client reports: malformed bytes decode to nothing", "[protocol][client_report]") {
  const auto bytes = encode_client_reports({{1, 2, 3.0, 4.0}});
  CHECK_FALSE(decode_client_reports(bytes.data(), bytes.size() - 1));
  auto longer = bytes;
  longer.push_back('x');
  CHECK_FALSE(decode_client_reports(longer.data(), longer.size()));
  auto huge = bytes;
  huge[7] = 0x7f;  // a count far beyond the bytes
  CHECK_FALSE(decode_client_reports(huge.data(), huge.size()));
  CHECK(decode_client_reports(nullptr, 0)->empty());
}
