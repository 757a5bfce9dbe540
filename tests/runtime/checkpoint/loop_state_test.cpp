// Tests of runtime/checkpoint/loop_state.*: the sync and async loop states round-trip field by
// field, another loop's or a cut state is refused, and which runs checkpoint mid-run.

#include "runtime/checkpoint/loop_state.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/checkpoint/byte_codec.hpp"

using namespace fedactor;

namespace {

run_totals some_totals() {
  run_totals t;
  t.clients_trained = 12;
  t.failures.add(failure_code::timeout, 2);
  t.failures.add(failure_code::stale, 3);
  t.final_loss = 0.75;
  t.total_updates = 11;
  t.stale_updates = 3;
  t.rejected_updates = 1;
  return t;
}

bool same_totals(const run_totals& a, const run_totals& b) {
  return a.clients_trained == b.clients_trained && a.failures == b.failures &&
         a.final_loss == b.final_loss && a.total_updates == b.total_updates &&
         a.stale_updates == b.stale_updates && a.rejected_updates == b.rejected_updates;
}

}  // namespace

TEST_CASE("loop_state round-trips a sync loop's state", "[checkpoint]") {
  sync_loop_state s;
  s.rounds_done = 3;
  s.version = 2;
  s.sim_now = 41.5;
  s.finished = true;
  s.totals = some_totals();
  s.model = {1.0f, -2.5f, 3.25f};
  s.control = {0.5f, 0.25f};
  s.optimizer = {'o', 'p'};
  s.sampler = {'s'};
  s.registry = {'r', 'e', 'g'};
  s.fired_events = {2, 0, 5};
  s.pending = true;
  s.pending_ids = {4, 7, 9};
  s.clip_bound = 1.25;
  s.totals.norm_clipped = 6;
  s.totals.norm_rejected = 2;
  const auto bytes = encode(s);
  const auto d = decode_sync_state(bytes, "ck");
  CHECK(d.rounds_done == 3);
  CHECK(d.version == 2);
  CHECK(d.sim_now == 41.5);
  CHECK(d.finished);
  CHECK(same_totals(d.totals, s.totals));
  CHECK(d.model == s.model);
  CHECK(d.control == s.control);
  CHECK(d.optimizer == s.optimizer);
  CHECK(d.sampler == s.sampler);
  CHECK(d.registry == s.registry);
  CHECK(d.fired_events == s.fired_events);
  CHECK(d.pending);
  CHECK(d.pending_ids == s.pending_ids);
  CHECK(d.clip_bound == 1.25);
  CHECK(d.totals.norm_clipped == 6);
  CHECK(d.totals.norm_rejected == 2);

  auto cut = bytes;
  cut.pop_back();
  CHECK_THROWS_WITH(decode_sync_state(cut, "ck"), "ck: truncated (no room for pace failure rate)");
  cut.resize(cut.size() - 8);  // the rest of the rate and one byte of the sample size
  CHECK_THROWS_WITH(decode_sync_state(cut, "ck"),
                    "ck: truncated (no room for adaptive sample size)");
  cut.resize(cut.size() - 4);  // into the privacy bytes before it
  CHECK_THROWS_WITH(decode_sync_state(cut, "ck"), "ck: truncated (no room for privacy state)");
  auto negative = s;
  negative.clip_bound = -1;
  CHECK_THROWS_WITH(decode_sync_state(encode(negative), "ck"), "ck: a negative clip bound");
  auto stray = s;
  stray.pending = false;
  CHECK_THROWS_WITH(decode_sync_state(encode(stray), "ck"), "ck: clients of no round in progress");
  auto longer = bytes;
  longer.push_back(0);
  CHECK_THROWS_WITH(decode_sync_state(longer, "ck"), "ck: 1 trailing bytes");
  CHECK_THROWS_WITH(decode_async_state(bytes, "ck"), "ck: a sync run's state, this run is async");
}

TEST_CASE("loop_state round-trips an async loop's state with its tasks in flight", "[checkpoint]") {
  async_loop_state s;
  s.steps_done = 4;
  s.sim_now = 10.25;
  s.sim_at_last_step = 9.5;
  s.next_seq = 17;
  s.next_group = 3;
  s.totals = some_totals();
  s.failures.add(failure_code::client_error);
  s.details = {"client 4: boom"};
  s.edges_lost = 1;
  s.edges_rejoined = 2;
  s.rerouted = 3;
  s.buffer = {'b', 'u', 'f'};
  s.tasks.push_back(async_task_state{15, 1, 7, 3, 99, 12.5, 40, false});
  s.tasks.push_back(async_task_state{16, 0, 8, 4, 100, 11.0, 50, true});
  s.models.emplace_back(3, std::vector<float>{1, 2});
  s.models.emplace_back(4, std::vector<float>{3, 4});
  s.sampler = {'s'};
  s.registry = {'r'};
  s.fired_events = {1, 4};
  s.concurrency = 9;
  s.went_offline = 6;
  s.pace_failure_rate = 0.375;
  const auto bytes = encode(s);
  const auto d = decode_async_state(bytes, "ck");
  CHECK(d.concurrency == 9);
  CHECK(d.went_offline == 6);
  CHECK(d.pace_failure_rate == 0.375);
  // Layout 6 ended before the clients gone offline (u32) and the pace failure rate (f64).
  auto six = bytes;
  six.resize(six.size() - 12);
  six[4] = 6;
  const auto d6 = decode_async_state(six, "ck");
  CHECK(d6.concurrency == 9);
  CHECK(d6.went_offline == 0);
  CHECK(d6.pace_failure_rate == -1);
  // A rate outside [0, 1] is refused.
  auto bad = s;
  bad.pace_failure_rate = 1.5;
  CHECK_THROWS_WITH(decode_async_state(encode(bad), "ck"),
                    "ck: a pace failure rate outside [0, 1]");
  // Layout 5 ended before the adaptive concurrency (u32): a fixed one.
  auto five = six;
  five.resize(five.size() - 4);
  five[4] = 5;
  const auto d5 = decode_async_state(five, "ck");
  CHECK(d5.concurrency == 0);
  CHECK(d5.fired_events == s.fired_events);
  CHECK(d.steps_done == 4);
  CHECK_FALSE(d.finished);
  CHECK(d.sim_now == 10.25);
  CHECK(d.sim_at_last_step == 9.5);
  CHECK(d.next_seq == 17);
  CHECK(d.next_group == 3);
  CHECK(same_totals(d.totals, s.totals));
  CHECK(d.failures == s.failures);
  CHECK(d.details == s.details);
  CHECK(d.edges_lost == 1);
  CHECK(d.edges_rejoined == 2);
  CHECK(d.rerouted == 3);
  CHECK(d.buffer == s.buffer);
  REQUIRE(d.tasks.size() == 2);
  CHECK(d.tasks[0].seq == 15);
  CHECK(d.tasks[0].attempt == 1);
  CHECK(d.tasks[0].client == 7);
  CHECK(d.tasks[0].base_version == 3);
  CHECK(d.tasks[0].task_seed == 99);
  CHECK(d.tasks[0].finish == 12.5);
  CHECK(d.tasks[0].num_samples == 40);
  CHECK_FALSE(d.tasks[0].cancelled);
  CHECK(d.tasks[1].cancelled);
  CHECK(d.models == s.models);
  CHECK(d.sampler == s.sampler);
  CHECK(d.fired_events == s.fired_events);
  CHECK(d.registry == s.registry);
  CHECK_THROWS_WITH(decode_sync_state(bytes, "ck"), "ck: an async run's state, this run is sync");
  const std::vector<char> junk(16, 'q');
  CHECK_THROWS_WITH(decode_sync_state(junk, "ck"), "ck: not a loop state");
}

TEST_CASE("loop_state: async runs that pre-aggregate or keep client state checkpoint at the end",
          "[checkpoint]") {
  scenario sc;
  CHECK_FALSE(mid_run_checkpoint_limit(sc));
  sc.strategy.client = client_algorithm::scaffold;
  CHECK_FALSE(mid_run_checkpoint_limit(sc));  // sync: the store is snapshotted with it
  sc.protocol.mode = protocol_mode::async;
  CHECK(mid_run_checkpoint_limit(sc));
  sc.strategy.client = client_algorithm::fedavg;
  CHECK_FALSE(mid_run_checkpoint_limit(sc));
  sc.async.edge = edge_mode::preaggregate;
  CHECK(mid_run_checkpoint_limit(sc));
  // Scripted events, sync or async: the fired ones are in the loop state, replayed on resume.
  scenario ev;
  ev.events.push_back(scenario_event{});
  CHECK_FALSE(mid_run_checkpoint_limit(ev));
  ev.protocol.mode = protocol_mode::async;
  CHECK_FALSE(mid_run_checkpoint_limit(ev));
}

TEST_CASE(
    "loop_state reads layouts 1 to 5 (before events, stops, the norm bound, privacy, the "
    "adaptive sample size and the pace failure rate were saved)",
    "[checkpoint]") {
  sync_loop_state s;
  s.rounds_done = 2;
  s.model = {1.0f};
  s.fired_events = {1};
  s.sample_size = 7;
  s.pace_failure_rate = 0.25;
  // Layout 6 ends with the pace failure rate (f64); layout 5 with the sample size (u32);
  // layout 4 with the clip bound (f64), the norm
  // bound's two totals (u64 each) and empty privacy bytes (their u64 count); layout 3 with the
  // fired events (u64 count, u32 each), the pending flag (u8) and an empty list of pending
  // clients (its u64 count).
  auto bytes = encode(s);
  REQUIRE(bytes.size() > 64);
  CHECK(decode_sync_state(bytes, "ck").sample_size == 7);
  CHECK(decode_sync_state(bytes, "ck").pace_failure_rate == 0.25);
  auto five = bytes;
  five.resize(five.size() - 8);
  five[4] = 5;
  const auto d5 = decode_sync_state(five, "ck");
  CHECK(d5.sample_size == 7);
  CHECK(d5.pace_failure_rate == -1);
  auto four = five;
  four.resize(four.size() - 4);
  four[4] = 4;
  const auto d4 = decode_sync_state(four, "ck");
  CHECK(d4.rounds_done == 2);
  CHECK(d4.sample_size == 0);
  auto three = four;
  three.resize(three.size() - 32);
  three[4] = 3;
  const auto d3 = decode_sync_state(three, "ck");
  CHECK(d3.rounds_done == 2);
  CHECK(d3.clip_bound == 0);
  CHECK(d3.totals.norm_clipped == 0);
  CHECK(d3.privacy.empty());
  auto two = three;
  two.resize(two.size() - 9);
  two[4] = 2;
  const auto d2 = decode_sync_state(two, "ck");
  CHECK(d2.rounds_done == 2);
  CHECK(d2.fired_events == s.fired_events);
  CHECK_FALSE(d2.pending);
  auto one = two;
  one.resize(one.size() - 12);
  one[4] = 1;
  const auto d1 = decode_sync_state(one, "ck");
  CHECK(d1.rounds_done == 2);
  CHECK(d1.model == s.model);
  CHECK(d1.fired_events.empty());
  bytes[4] = 8;
  CHECK_THROWS_WITH(decode_sync_state(bytes, "ck"), "ck: unknown loop state layout 8");
}

TEST_CASE("loop_state keeps the pace failure rate and refuses one outside 0 to 1", "[checkpoint]") {
  sync_loop_state s;
  s.model = {1.0f};
  CHECK(decode_sync_state(encode(s), "ck").pace_failure_rate == -1);  // no pace steering
  s.pace_failure_rate = 0.45;
  CHECK(decode_sync_state(encode(s), "ck").pace_failure_rate == 0.45);
  s.pace_failure_rate = 1.5;
  CHECK_THROWS_WITH(decode_sync_state(encode(s), "ck"),
                    Catch::Contains("a pace failure rate outside [0, 1]"));
}

TEST_CASE("loop_state keeps a sync run's privacy state (layout 4)", "[checkpoint]") {
  sync_loop_state s;
  s.rounds_done = 3;
  s.model = {1.0f, 2.0f};
  s.privacy = {'a', 'b', 'c'};
  const auto d = decode_sync_state(encode(s), "ck");
  CHECK(d.privacy == s.privacy);
  CHECK(d.model == s.model);
  auto cut = encode(s);
  cut.resize(cut.size() - 13);  // the pace rate (f64), the sample size (u32) and a privacy byte
  CHECK_THROWS_WITH(decode_sync_state(cut, "ck"), Catch::Contains("privacy state"));
}
