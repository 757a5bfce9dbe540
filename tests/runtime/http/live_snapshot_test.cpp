#include "runtime/http/live_snapshot.hpp"

#include <catch2/catch.hpp>

#include "runtime/metrics/metrics_writer.hpp"

using fedactor::live_snapshot;
using fedactor::round_record;

TEST_CASE("live_snapshot keeps the latest record, the last evaluated one and the lines", "[http]") {
  live_snapshot snap{"run-1", "quickstart"};
  auto s = snap.state();
  CHECK(s.run == "run-1");
  CHECK(s.scenario == "quickstart");
  CHECK_FALSE(s.latest);
  CHECK_FALSE(s.finished);
  CHECK(s.records == 0);
  CHECK(s.rss_bytes > 0);
  CHECK(s.peak_rss_bytes >= s.rss_bytes);

  round_record r1;
  r1.round = 1;
  r1.mean_loss = 2.0;
  r1.evaluated = true;
  r1.test_samples = 10;
  r1.test_accuracy = 0.5;
  round_record r2;
  r2.round = 2;
  r2.mean_loss = 1.5;
  snap.on_record(r1);
  snap.on_record(r2);
  s = snap.state();
  CHECK(s.records == 2);
  REQUIRE(s.latest);
  CHECK(s.latest->round == 2);
  REQUIRE(s.evaluated);
  CHECK(s.evaluated->round == 1);
  CHECK(s.evaluated->test_accuracy == 0.5);

  auto recs = snap.records();
  CHECK(recs.run == "run-1");
  REQUIRE(recs.lines.size() == 2);
  CHECK(recs.lines[0] == fedactor::to_json(r1));
  CHECK(recs.lines[1] == fedactor::to_json(r2));
  CHECK(recs.summary.empty());
  CHECK_FALSE(recs.finished);

  snap.finish("{\"rounds\":2}");
  CHECK(snap.state().finished);
  CHECK(snap.records().summary == "{\"rounds\":2}");
  CHECK(snap.records().finished);
}
