#include "runtime/http/prometheus_text.hpp"

#include <cmath>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "runtime/http/live_snapshot.hpp"

using fedactor::edge_load_counts;
using fedactor::live_snapshot;
using fedactor::live_state;
using fedactor::prometheus_label_value;
using fedactor::prometheus_text;
using fedactor::prometheus_value;
using fedactor::round_record;

TEST_CASE("prometheus_value spells NaN and infinities as Prometheus reads them", "[http]") {
  CHECK(prometheus_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(prometheus_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(prometheus_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(prometheus_value(0.5) == "0.5");
  CHECK(prometheus_value(12.0) == "12.0");
  CHECK(prometheus_value(1e-05) == "1e-05");
  CHECK(prometheus_value(-2.25) == "-2.25");
}

TEST_CASE("prometheus_label_value escapes backslash, quote and newline", "[http]") {
  CHECK(prometheus_label_value("plain") == "plain");
  CHECK(prometheus_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}

TEST_CASE("prometheus_text before the first record: the run and the process only", "[http]") {
  live_state s;
  s.run = "quick-1";
  s.scenario = "quickstart";
  s.rss_bytes = 1000;
  s.peak_rss_bytes = 2000;
  CHECK(prometheus_text(s) ==
        "# HELP fedactor_run_info The run: output directory name, scenario, protocol (always 1).\n"
        "# TYPE fedactor_run_info gauge\n"
        "fedactor_run_info{run=\"quick-1\",scenario=\"quickstart\",protocol=\"sync\"} 1\n"
        "# HELP fedactor_running 1 while the run is going, 0 once it ended.\n"
        "# TYPE fedactor_running gauge\n"
        "fedactor_running 1\n"
        "# HELP fedactor_records_total Records (sync rounds / async steps) written by this "
        "process.\n"
        "# TYPE fedactor_records_total counter\n"
        "fedactor_records_total 0\n"
        "# HELP fedactor_resident_memory_bytes Resident set size of the process.\n"
        "# TYPE fedactor_resident_memory_bytes gauge\n"
        "fedactor_resident_memory_bytes 1000\n"
        "# HELP fedactor_peak_resident_memory_bytes Peak resident set size of the process "
        "(VmHWM).\n"
        "# TYPE fedactor_peak_resident_memory_bytes gauge\n"
        "fedactor_peak_resident_memory_bytes 2000\n");
}

TEST_CASE("prometheus_text of a sync round with norm bound, privacy and an evaluation", "[http]") {
  round_record r;
  r.round = 7;
  r.model_version = 7;
  r.selected = 20;
  r.clients = 17;
  r.failures = 3;
  r.failures_by.add(fedactor::failure_code::timeout, 2);
  r.failures_by.add(fedactor::failure_code::invalid_update, 1);
  r.mean_loss = 0.75;
  r.wall_s = 2.5;
  r.clients_per_s = 6.8;
  r.live_clients = 40;
  r.peak_live_clients = 44;
  r.evictions = 9;
  r.sim_round_s = 1.5;
  r.sim_time_s = 10.5;
  r.dropped = 1;
  r.edges_lost = 1;
  r.edges_rejoined = 0;
  r.rerouted = 4;
  r.norm_bound = 3.25;
  r.norm_clipped = 5;
  r.norm_rejected = 1;
  r.private_round = true;
  r.epsilon = std::numeric_limits<double>::infinity();
  r.delta = 1e-05;
  r.dp_clip = 1.0;
  r.dp_noise_std = 0.0;
  round_record t;
  t.round = 5;
  t.evaluated = true;
  t.test_samples = 100;
  t.test_accuracy = 0.625;
  t.test_loss = std::numeric_limits<double>::quiet_NaN();

  live_state s;
  s.run = "run \"x\"";
  s.scenario = "a\\b\nc";
  s.finished = true;
  s.records = 7;
  s.latest = r;
  s.evaluated = t;
  s.rss_bytes = 123456789;
  s.peak_rss_bytes = 223456789;
  const std::string expected =
      "# HELP fedactor_run_info The run: output directory name, scenario, protocol (always 1).\n"
      "# TYPE fedactor_run_info gauge\n"
      "fedactor_run_info{run=\"run \\\"x\\\"\",scenario=\"a\\\\b\\nc\",protocol=\"sync\"} 1\n"
      "# HELP fedactor_running 1 while the run is going, 0 once it ended.\n"
      "# TYPE fedactor_running gauge\n"
      "fedactor_running 0\n"
      "# HELP fedactor_records_total Records (sync rounds / async steps) written by this "
      "process.\n"
      "# TYPE fedactor_records_total counter\n"
      "fedactor_records_total 7\n"
      "# HELP fedactor_resident_memory_bytes Resident set size of the process.\n"
      "# TYPE fedactor_resident_memory_bytes gauge\n"
      "fedactor_resident_memory_bytes 123456789\n"
      "# HELP fedactor_peak_resident_memory_bytes Peak resident set size of the process "
      "(VmHWM).\n"
      "# TYPE fedactor_peak_resident_memory_bytes gauge\n"
      "fedactor_peak_resident_memory_bytes 223456789\n"
      "# HELP fedactor_round Number of the latest sync round / async server step (round, "
      "aggregation).\n"
      "# TYPE fedactor_round gauge\n"
      "fedactor_round 7\n"
      "# HELP fedactor_model_version Global model version after the latest round / step.\n"
      "# TYPE fedactor_model_version gauge\n"
      "fedactor_model_version 7\n"
      "# HELP fedactor_round_clients Clients whose update was folded into the latest round / "
      "step.\n"
      "# TYPE fedactor_round_clients gauge\n"
      "fedactor_round_clients 17\n"
      "# HELP fedactor_round_failures Client tasks without a usable update in the latest round "
      "/ step (stale apart).\n"
      "# TYPE fedactor_round_failures gauge\n"
      "fedactor_round_failures 3\n"
      "# HELP fedactor_round_failures_by_cause Failures of the latest round / step per cause "
      "(stale included).\n"
      "# TYPE fedactor_round_failures_by_cause gauge\n"
      "fedactor_round_failures_by_cause{cause=\"timeout\"} 2\n"
      "fedactor_round_failures_by_cause{cause=\"edge_lost\"} 0\n"
      "fedactor_round_failures_by_cause{cause=\"invalid_update\"} 1\n"
      "fedactor_round_failures_by_cause{cause=\"stale\"} 0\n"
      "fedactor_round_failures_by_cause{cause=\"client_error\"} 0\n"
      "fedactor_round_failures_by_cause{cause=\"unavailable\"} 0\n"
      "# HELP fedactor_mean_loss Mean training loss of the clients of the latest round / step.\n"
      "# TYPE fedactor_mean_loss gauge\n"
      "fedactor_mean_loss 0.75\n"
      "# HELP fedactor_round_wall_seconds Wall-clock seconds the latest round / step took.\n"
      "# TYPE fedactor_round_wall_seconds gauge\n"
      "fedactor_round_wall_seconds 2.5\n"
      "# HELP fedactor_clients_per_second Clients folded in per wall-clock second in the latest "
      "round.\n"
      "# TYPE fedactor_clients_per_second gauge\n"
      "fedactor_clients_per_second 6.8\n"
      "# HELP fedactor_live_clients Client actors alive over all edges after the latest round / "
      "step.\n"
      "# TYPE fedactor_live_clients gauge\n"
      "fedactor_live_clients 40\n"
      "# HELP fedactor_peak_live_clients Sum over edges of each edge's peak live set of client "
      "actors.\n"
      "# TYPE fedactor_peak_live_clients gauge\n"
      "fedactor_peak_live_clients 44\n"
      "# HELP fedactor_evictions_total Client actors evicted so far, all edges.\n"
      "# TYPE fedactor_evictions_total counter\n"
      "fedactor_evictions_total 9\n"
      "# HELP fedactor_sim_round_seconds Simulated duration of the latest round / since the "
      "last step.\n"
      "# TYPE fedactor_sim_round_seconds gauge\n"
      "fedactor_sim_round_seconds 1.5\n"
      "# HELP fedactor_sim_time_seconds Simulated time at the end of the latest round / step.\n"
      "# TYPE fedactor_sim_time_seconds gauge\n"
      "fedactor_sim_time_seconds 10.5\n"
      "# HELP fedactor_round_edges_lost Edges lost in the latest round / since the last step.\n"
      "# TYPE fedactor_round_edges_lost gauge\n"
      "fedactor_round_edges_lost 1\n"
      "# HELP fedactor_round_edges_rejoined Lost edges that came back in the latest round / "
      "step.\n"
      "# TYPE fedactor_round_edges_rejoined gauge\n"
      "fedactor_round_edges_rejoined 0\n"
      "# HELP fedactor_round_rerouted Client tasks sent through another edge in the latest "
      "round / step.\n"
      "# TYPE fedactor_round_rerouted gauge\n"
      "fedactor_round_rerouted 4\n"
      "# HELP fedactor_round_selected Clients sampled for the latest sync round.\n"
      "# TYPE fedactor_round_selected gauge\n"
      "fedactor_round_selected 20\n"
      "# HELP fedactor_round_dropped Selected clients past the deadline or over-selected "
      "(sync).\n"
      "# TYPE fedactor_round_dropped gauge\n"
      "fedactor_round_dropped 1\n"
      "# HELP fedactor_norm_bound L2 bound the edges applied to updates in the latest round.\n"
      "# TYPE fedactor_norm_bound gauge\n"
      "fedactor_norm_bound 3.25\n"
      "# HELP fedactor_round_norm_clipped Updates clipped to the norm bound in the latest "
      "round.\n"
      "# TYPE fedactor_round_norm_clipped gauge\n"
      "fedactor_round_norm_clipped 5\n"
      "# HELP fedactor_round_norm_rejected Updates rejected by the norm bound in the latest "
      "round.\n"
      "# TYPE fedactor_round_norm_rejected gauge\n"
      "fedactor_round_norm_rejected 1\n"
      "# HELP fedactor_dp_epsilon Epsilon spent so far at dp_delta (+Inf: no noise, no "
      "guarantee).\n"
      "# TYPE fedactor_dp_epsilon gauge\n"
      "fedactor_dp_epsilon +Inf\n"
      "# HELP fedactor_dp_delta Delta of the differential-privacy guarantee.\n"
      "# TYPE fedactor_dp_delta gauge\n"
      "fedactor_dp_delta 1e-05\n"
      "# HELP fedactor_dp_clip Clip norm C of the latest round's updates.\n"
      "# TYPE fedactor_dp_clip gauge\n"
      "fedactor_dp_clip 1.0\n"
      "# HELP fedactor_dp_noise_std Std of the noise added to each coordinate of the update "
      "sum.\n"
      "# TYPE fedactor_dp_noise_std gauge\n"
      "fedactor_dp_noise_std 0.0\n"
      "# HELP fedactor_evaluated_round Round / step of the last evaluation on the test split.\n"
      "# TYPE fedactor_evaluated_round gauge\n"
      "fedactor_evaluated_round 5\n"
      "# HELP fedactor_test_accuracy Accuracy of the global model on the test split (last "
      "evaluation).\n"
      "# TYPE fedactor_test_accuracy gauge\n"
      "fedactor_test_accuracy 0.625\n"
      "# HELP fedactor_test_loss Cross-entropy of the global model on the test split (last "
      "evaluation).\n"
      "# TYPE fedactor_test_loss gauge\n"
      "fedactor_test_loss NaN\n";
  CHECK(prometheus_text(s) == expected);
}

TEST_CASE("prometheus_text of an async step: stale discarded, decay and the loop's gauges",
          "[http]") {
  round_record r;
  r.async = true;
  r.round = 12;
  r.stale_discarded = 6;
  r.failures_by.add(fedactor::failure_code::stale, 2);
  r.mean_decay = 0.5;
  r.gauges.in_flight = 8;
  r.gauges.held = 2;
  r.gauges.model_versions = 3;
  r.gauges.busy_clients = 8;
  live_state s;
  s.async = true;
  s.latest = r;
  const std::string text = prometheus_text(s);
  CHECK(text.find("fedactor_run_info{run=\"\",scenario=\"\",protocol=\"async\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("fedactor_round 12\n") != std::string::npos);
  CHECK(text.find("fedactor_round_failures_by_cause{cause=\"stale\"} 2\n") != std::string::npos);
  const std::string async_part =
      "# HELP fedactor_stale_discarded_total Updates discarded as too stale so far (async).\n"
      "# TYPE fedactor_stale_discarded_total counter\n"
      "fedactor_stale_discarded_total 6\n"
      "# HELP fedactor_mean_decay Mean staleness decay weight of the latest step's updates "
      "(async).\n"
      "# TYPE fedactor_mean_decay gauge\n"
      "fedactor_mean_decay 0.5\n"
      "# HELP fedactor_in_flight Tasks dispatched and not yet done after the latest step "
      "(async).\n"
      "# TYPE fedactor_in_flight gauge\n"
      "fedactor_in_flight 8\n"
      "# HELP fedactor_held Answers or failures held for release in simulated order (async).\n"
      "# TYPE fedactor_held gauge\n"
      "fedactor_held 2\n"
      "# HELP fedactor_model_versions_kept Distinct model versions kept for tasks in flight "
      "(async).\n"
      "# TYPE fedactor_model_versions_kept gauge\n"
      "fedactor_model_versions_kept 3\n"
      "# HELP fedactor_busy_clients Clients with a task in flight after the latest step "
      "(async).\n"
      "# TYPE fedactor_busy_clients gauge\n"
      "fedactor_busy_clients 8\n";
  // the async metrics close the text: no sync-only, norm-bound, privacy or evaluation metric
  REQUIRE(text.size() > async_part.size());
  CHECK(text.substr(text.size() - async_part.size()) == async_part);
  CHECK(text.find("fedactor_round_selected") == std::string::npos);
}

TEST_CASE("prometheus_text has edges alive and per-edge series summed over the records so far",
          "[http]") {
  live_snapshot snap{"run-1", "chaos"};
  round_record r;
  r.async = true;
  r.round = 1;
  r.edges_alive = 2;
  r.edge_load = {edge_load_counts{5, 4, 1, 12.5, 2}, edge_load_counts{3, 3, 0, 2.25, 0}};
  snap.on_record(r);
  std::string text = prometheus_text(snap.state());
  CHECK(text.find("fedactor_edges_alive 2\n") != std::string::npos);
  r.round = 2;
  r.edges_alive = 1;
  r.edge_load = {edge_load_counts{2, 1, 1, 0.5, 1}, edge_load_counts{0, 0, 2, 0.0, 0}};
  snap.on_record(r);
  text = prometheus_text(snap.state());
  const std::string expected =
      "# HELP fedactor_edges_alive Edges registered and not lost after the latest round / step.\n"
      "# TYPE fedactor_edges_alive gauge\n"
      "fedactor_edges_alive 1\n"
      "# HELP fedactor_edge_tasks_total Client tasks dispatched to the edge so far.\n"
      "# TYPE fedactor_edge_tasks_total counter\n"
      "fedactor_edge_tasks_total{edge=\"0\"} 7\n"
      "fedactor_edge_tasks_total{edge=\"1\"} 3\n"
      "# HELP fedactor_edge_updates_total Updates the edge returned so far (async: folded).\n"
      "# TYPE fedactor_edge_updates_total counter\n"
      "fedactor_edge_updates_total{edge=\"0\"} 5\n"
      "fedactor_edge_updates_total{edge=\"1\"} 3\n"
      "# HELP fedactor_edge_failed_total Tasks of the edge that ended without an update from it "
      "so far.\n"
      "# TYPE fedactor_edge_failed_total counter\n"
      "fedactor_edge_failed_total{edge=\"0\"} 2\n"
      "fedactor_edge_failed_total{edge=\"1\"} 2\n"
      "# HELP fedactor_edge_busy_seconds_total Simulated seconds of client work dispatched to the "
      "edge so far.\n"
      "# TYPE fedactor_edge_busy_seconds_total counter\n"
      "fedactor_edge_busy_seconds_total{edge=\"0\"} 13.0\n"
      "fedactor_edge_busy_seconds_total{edge=\"1\"} 2.25\n"
      "# HELP fedactor_edge_in_flight Tasks of the edge in flight after the latest step.\n"
      "# TYPE fedactor_edge_in_flight gauge\n"
      "fedactor_edge_in_flight{edge=\"0\"} 1\n"
      "fedactor_edge_in_flight{edge=\"1\"} 0\n";
  INFO(text);
  CHECK(text.find(expected) != std::string::npos);
  // A sync round has no tasks in flight, and a record without edge_load no per-edge series.
  r.async = false;
  live_snapshot sync_snap{"run-2", "quickstart"};
  sync_snap.on_record(r);
  text = prometheus_text(sync_snap.state());
  CHECK(text.find("fedactor_edge_tasks_total{edge=\"0\"} 2\n") != std::string::npos);
  CHECK(text.find("fedactor_edge_in_flight") == std::string::npos);
  live_snapshot plain{"run-3", "quickstart"};
  plain.on_record(round_record{});
  text = prometheus_text(plain.state());
  CHECK(text.find("fedactor_edges_alive") == std::string::npos);
  CHECK(text.find("fedactor_edge_") == std::string::npos);
}

TEST_CASE("prometheus_text has the node server's bytes to and from the edges summed over rounds",
          "[http][bytes]") {
  live_snapshot snap{"run-3", "tutorial_sync"};
  round_record r;
  r.round = 1;
  snap.on_record(r);  // fedactor run: no bytes counted, no series
  CHECK(prometheus_text(snap.state()).find("net_bytes") == std::string::npos);
  r.net_bytes_counted = true;
  r.net_bytes_down = 1000;
  r.net_bytes_up = 4000;
  r.net_bytes_down_by_message = {600, 300, 0, 0, 20, 0};
  r.net_bytes_up_by_message = {0, 0, 3000, 0, 900, 1};
  snap.on_record(r);
  r.round = 2;
  r.net_bytes_down = 250;
  r.net_bytes_up = 30;
  r.net_bytes_down_by_message = {100, 50, 0, 0, 0, 0};
  r.net_bytes_up_by_message = {0, 0, 0, 20, 0, 0};
  snap.on_record(r);
  const std::string text = prometheus_text(snap.state());
  const std::string expected =
      "# HELP fedactor_net_bytes_down_total Bytes the node server sent to the edges' nodes since "
      "the first round (framing included; with TLS the encrypted bytes).\n"
      "# TYPE fedactor_net_bytes_down_total counter\n"
      "fedactor_net_bytes_down_total 1250\n"
      "# HELP fedactor_net_bytes_up_total Bytes the node server received from the edges' nodes "
      "since the first round (framing included; with TLS the encrypted bytes).\n"
      "# TYPE fedactor_net_bytes_up_total counter\n"
      "fedactor_net_bytes_up_total 4030\n"
      "# HELP fedactor_net_message_bytes_down_total Of net_bytes_down_total, the actor messages' "
      "bytes by the kind of message they carried.\n"
      "# TYPE fedactor_net_message_bytes_down_total counter\n"
      "fedactor_net_message_bytes_down_total{kind=\"task\"} 700\n"
      "fedactor_net_message_bytes_down_total{kind=\"model\"} 350\n"
      "fedactor_net_message_bytes_down_total{kind=\"result\"} 0\n"
      "fedactor_net_message_bytes_down_total{kind=\"aggregate\"} 0\n"
      "fedactor_net_message_bytes_down_total{kind=\"control\"} 20\n"
      "fedactor_net_message_bytes_down_total{kind=\"other\"} 0\n"
      "# HELP fedactor_net_message_bytes_up_total Of net_bytes_up_total, the actor messages' bytes "
      "by the kind of message they carried.\n"
      "# TYPE fedactor_net_message_bytes_up_total counter\n"
      "fedactor_net_message_bytes_up_total{kind=\"task\"} 0\n"
      "fedactor_net_message_bytes_up_total{kind=\"model\"} 0\n"
      "fedactor_net_message_bytes_up_total{kind=\"result\"} 3000\n"
      "fedactor_net_message_bytes_up_total{kind=\"aggregate\"} 20\n"
      "fedactor_net_message_bytes_up_total{kind=\"control\"} 900\n"
      "fedactor_net_message_bytes_up_total{kind=\"other\"} 1\n";
  INFO(text);
  CHECK(text.find(expected) != std::string::npos);
}
