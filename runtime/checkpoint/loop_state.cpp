#include "runtime/checkpoint/loop_state.hpp"

#include <cmath>

#include "runtime/checkpoint/byte_codec.hpp"

namespace fedactor {

namespace {

constexpr uint32_t sync_tag = 0x434e5953;   // "SYNC"
constexpr uint32_t async_tag = 0x4e595341;  // "ASYN"
// 2 added the fired events at the end of both layouts; 3 a sync run's round in progress at a
// stop; 4 the adaptive norm bound, the norm bound's totals and the privacy state (DP-FedAvg)
// at the end of the sync layout. 1 to 3 are still read (no events fired, no round in progress,
// no norm bound or privacy state); 5 the adaptive sample size; 6 the pace steering failure
// rate at the end of the sync layout and an async run's adaptive concurrency at the end of the
// async layout (older async layouts: fixed concurrency); 7 an async run's clients gone
// offline since the last step and its pace steering failure rate (population.availability,
// selection.pace) at the end of the async layout.
constexpr uint32_t layout_version = 7;

void put_failures(byte_writer& w, const failure_counts& f) {
  w.put_u32s(f.to_wire());
}

failure_counts get_failures(byte_reader& r, const char* field) {
  auto f = failure_counts::from_wire(r.get_u32s(field));
  if (!f) r.fail(std::string("unknown failure codes in ") + field);
  return *f;
}

void put_totals(byte_writer& w, const run_totals& t) {
  w.put_u64(t.clients_trained);
  put_failures(w, t.failures);
  w.put_f64(t.final_loss);
  w.put_u64(t.total_updates);
  w.put_u64(t.stale_updates);
  w.put_u64(t.rejected_updates);
}

run_totals get_totals(byte_reader& r) {
  run_totals t;
  t.clients_trained = r.get_u64("clients trained");
  t.failures = get_failures(r, "run failures");
  t.final_loss = r.get_f64("final loss");
  t.total_updates = r.get_u64("total updates");
  t.stale_updates = r.get_u64("stale updates");
  t.rejected_updates = r.get_u64("rejected updates");
  return t;
}

uint32_t check_head(byte_reader& r, uint32_t tag, const char* kind) {
  const uint32_t got = r.get_u32("loop tag");
  if (got == sync_tag && tag != sync_tag)
    r.fail(std::string("a sync run's state, this run is ") + kind);
  if (got == async_tag && tag != async_tag)
    r.fail(std::string("an async run's state, this run is ") + kind);
  if (got != tag) r.fail("not a loop state");
  const uint32_t v = r.get_u32("layout version");
  if (v < 1 || v > layout_version) r.fail("unknown loop state layout " + std::to_string(v));
  return v;
}

}  // namespace

std::vector<char> encode(const sync_loop_state& s) {
  byte_writer w;
  w.put_u32(sync_tag);
  w.put_u32(layout_version);
  w.put_u32(s.rounds_done);
  w.put_u64(s.version);
  w.put_f64(s.sim_now);
  w.put_u8(s.finished ? 1 : 0);
  put_totals(w, s.totals);
  w.put_floats(s.model);
  w.put_floats(s.control);
  w.put_bytes(s.optimizer);
  w.put_bytes(s.sampler);
  w.put_bytes(s.registry);
  w.put_u32s(s.fired_events);
  w.put_u8(s.pending ? 1 : 0);
  w.put_u32s(s.pending_ids);
  w.put_f64(s.clip_bound);
  w.put_u64(s.totals.norm_clipped);
  w.put_u64(s.totals.norm_rejected);
  w.put_bytes(s.privacy);
  w.put_u32(s.sample_size);
  w.put_f64(s.pace_failure_rate);
  return w.take();
}

sync_loop_state decode_sync_state(const std::vector<char>& bytes, const std::string& what) {
  byte_reader r(bytes.data(), bytes.size(), what);
  const uint32_t layout = check_head(r, sync_tag, "sync");
  sync_loop_state s;
  s.rounds_done = r.get_u32("rounds done");
  s.version = r.get_u64("model version");
  s.sim_now = r.get_f64("simulated time");
  s.finished = r.get_u8("finished") != 0;
  s.totals = get_totals(r);
  s.model = r.get_floats("model");
  s.control = r.get_floats("control variate");
  s.optimizer = r.get_bytes("server optimizer state");
  s.sampler = r.get_bytes("sampler state");
  s.registry = r.get_bytes("registry state");
  if (layout >= 2) s.fired_events = r.get_u32s("fired events");
  if (layout >= 3) {
    s.pending = r.get_u8("round in progress") != 0;
    s.pending_ids = r.get_u32s("clients of the round in progress");
    if (!s.pending && !s.pending_ids.empty()) r.fail("clients of no round in progress");
  }
  if (layout >= 4) {
    s.clip_bound = r.get_f64("adaptive clip bound");
    if (!(s.clip_bound >= 0) || !std::isfinite(s.clip_bound)) r.fail("a negative clip bound");
    s.totals.norm_clipped = r.get_u64("updates clipped");
    s.totals.norm_rejected = r.get_u64("updates rejected by the norm bound");
    s.privacy = r.get_bytes("privacy state");
  }
  if (layout >= 5) s.sample_size = r.get_u32("adaptive sample size");
  if (layout >= 6) {
    s.pace_failure_rate = r.get_f64("pace failure rate");
    if (!(s.pace_failure_rate == -1 || (s.pace_failure_rate >= 0 && s.pace_failure_rate <= 1)))
      r.fail("a pace failure rate outside [0, 1]");
  }
  r.finish();
  return s;
}

std::vector<char> encode(const async_loop_state& s) {
  byte_writer w;
  w.put_u32(async_tag);
  w.put_u32(layout_version);
  w.put_u32(s.steps_done);
  w.put_u8(s.finished ? 1 : 0);
  w.put_f64(s.sim_now);
  w.put_f64(s.sim_at_last_step);
  w.put_u64(s.next_seq);
  w.put_u64(s.next_group);
  put_totals(w, s.totals);
  put_failures(w, s.failures);
  w.put_u64(s.details.size());
  for (const auto& d : s.details) w.put_string(d);
  w.put_u32(s.edges_lost);
  w.put_u32(s.edges_rejoined);
  w.put_u32(s.rerouted);
  w.put_bytes(s.buffer);
  w.put_u64(s.tasks.size());
  for (const auto& t : s.tasks) {
    w.put_u64(t.seq);
    w.put_u32(t.attempt);
    w.put_u32(t.client);
    w.put_u64(t.base_version);
    w.put_u64(t.task_seed);
    w.put_f64(t.finish);
    w.put_u32(t.num_samples);
    w.put_u8(t.cancelled ? 1 : 0);
  }
  w.put_u64(s.models.size());
  for (const auto& [v, m] : s.models) {
    w.put_u64(v);
    w.put_floats(m);
  }
  w.put_bytes(s.sampler);
  w.put_bytes(s.registry);
  w.put_u32s(s.fired_events);
  w.put_u32(s.concurrency);
  w.put_u32(s.went_offline);
  w.put_f64(s.pace_failure_rate);
  return w.take();
}

async_loop_state decode_async_state(const std::vector<char>& bytes, const std::string& what) {
  byte_reader r(bytes.data(), bytes.size(), what);
  const uint32_t layout = check_head(r, async_tag, "async");
  async_loop_state s;
  s.steps_done = r.get_u32("steps done");
  s.finished = r.get_u8("finished") != 0;
  s.sim_now = r.get_f64("simulated time");
  s.sim_at_last_step = r.get_f64("simulated time of the last step");
  s.next_seq = r.get_u64("next task number");
  s.next_group = r.get_u64("next group number");
  s.totals = get_totals(r);
  s.failures = get_failures(r, "step failures");
  const uint64_t details = r.get_u64("failure reasons");
  if (details > r.remaining() / 8) r.fail("truncated (no room for failure reasons)");
  for (uint64_t i = 0; i < details; ++i) s.details.push_back(r.get_string("failure reason"));
  s.edges_lost = r.get_u32("edges lost");
  s.edges_rejoined = r.get_u32("edges rejoined");
  s.rerouted = r.get_u32("rerouted");
  s.buffer = r.get_bytes("buffer");
  const uint64_t tasks = r.get_u64("tasks in flight");
  constexpr size_t task_bytes = 8 + 4 + 4 + 8 + 8 + 8 + 4 + 1;
  if (tasks > r.remaining() / task_bytes) r.fail("truncated (no room for tasks in flight)");
  for (uint64_t i = 0; i < tasks; ++i) {
    async_task_state t;
    t.seq = r.get_u64("task number");
    t.attempt = r.get_u32("task attempt");
    t.client = r.get_u32("task client");
    t.base_version = r.get_u64("task base version");
    t.task_seed = r.get_u64("task seed");
    t.finish = r.get_f64("task finish");
    t.num_samples = r.get_u32("task samples");
    t.cancelled = r.get_u8("task cancelled") != 0;
    s.tasks.push_back(t);
  }
  const uint64_t models = r.get_u64("task models");
  if (models > r.remaining() / 16) r.fail("truncated (no room for task models)");
  for (uint64_t i = 0; i < models; ++i) {
    const uint64_t v = r.get_u64("task model version");
    s.models.emplace_back(v, r.get_floats("task model"));
  }
  s.sampler = r.get_bytes("sampler state");
  s.registry = r.get_bytes("registry state");
  if (layout >= 2) s.fired_events = r.get_u32s("fired events");
  if (layout >= 6) s.concurrency = r.get_u32("adaptive concurrency");
  if (layout >= 7) {
    s.went_offline = r.get_u32("clients gone offline");
    s.pace_failure_rate = r.get_f64("pace failure rate");
    if (!(s.pace_failure_rate == -1 || (s.pace_failure_rate >= 0 && s.pace_failure_rate <= 1)))
      r.fail("a pace failure rate outside [0, 1]");
  }
  r.finish();
  return s;
}

std::optional<std::string> mid_run_checkpoint_limit(const scenario& sc) {
  if (sc.protocol.mode != protocol_mode::async) return std::nullopt;
  if (sc.async.edge == edge_mode::preaggregate)
    return "async.edge_mode preaggregate runs are checkpointed at the end only (groups span "
           "server steps)";
  if (sc.strategy.client == client_algorithm::scaffold ||
      sc.strategy.normalization == norm_handling::local)
    return "async runs with client state (strategy.client scaffold, strategy.normalization "
           "local) are checkpointed at the end only";
  return std::nullopt;
}

}  // namespace fedactor
