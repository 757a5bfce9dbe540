#include <catch2/catch.hpp>

#include <set>
#include <vector>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/population/client_stats.hpp"

using namespace fedactor;

TEST_CASE("client_stats splits the clients into never-reported and reported ones",
          "[population][client_stats]") {
  client_stats s(5);
  CHECK(s.unseen_count() == 5);
  CHECK(s.reported_count() == 0);
  s.report(3, 12.5f, 2.0f, 4);
  s.report(0, 1.0f, 7.0f, 4);
  s.report(3, 6.0f, 3.0f, 6);  // again: updated, still reported once
  CHECK(s.unseen_count() == 3);
  CHECK(s.reported_count() == 2);
  CHECK(s.reported(3));
  CHECK(s.reported(0));
  CHECK_FALSE(s.reported(1));
  CHECK(s.utility(3) == 6.0f);
  CHECK(s.duration(3) == 3.0f);
  CHECK(s.round(3) == 6);
  CHECK(s.round(1) == 0);
  std::set<client_id> unseen, reported;
  for (uint64_t i = 0; i < s.unseen_count(); ++i) unseen.insert(s.unseen_at(i));
  for (uint64_t i = 0; i < s.reported_count(); ++i) reported.insert(s.reported_at(i));
  CHECK(unseen == std::set<client_id>{1, 2, 4});
  CHECK(reported == std::set<client_id>{0, 3});
}

TEST_CASE("client_stats holds 20 bytes a client: 10 million clients in under 200 MiB",
          "[population][client_stats]") {
  CHECK(client_stats(1000).bytes() == 20000);
  const client_stats big(10'000'000);
  CHECK(big.bytes() == 200'000'000);
  CHECK(big.bytes() < (200u << 20));
}

TEST_CASE("client_stats save and load round-trip, and refuse another population",
          "[population][client_stats]") {
  client_stats s(6);
  s.report(4, 3.0f, 1.5f, 2);
  s.report(1, 5.0f, 0.5f, 3);
  byte_writer out;
  s.save(out);
  const auto bytes = out.take();
  client_stats t(6);
  byte_reader in(bytes.data(), bytes.size(), "stats");
  t.load(in);
  in.finish();
  CHECK(t.reported_count() == 2);
  CHECK(t.utility(4) == 3.0f);
  CHECK(t.duration(1) == 0.5f);
  CHECK(t.round(1) == 3);
  for (uint64_t i = 0; i < 6; ++i) {
    CHECK(t.reported(static_cast<client_id>(i)) == s.reported(static_cast<client_id>(i)));
    if (i < t.unseen_count()) CHECK(t.unseen_at(i) == s.unseen_at(i));
  }
  client_stats other(7);
  byte_reader in2(bytes.data(), bytes.size(), "stats");
  CHECK_THROWS_WITH(other.load(in2), Catch::Contains("the population has 7"));
  CHECK(other.reported_count() == 0);
}
