// Tests for `fedactor bench` (runtime/cli/bench_command): runs the binary on tiny sizes.

#include "runtime/cli/bench_command.hpp"

#include <cstdio>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/cli/bench_nodes.hpp"
#include "tests/support/fedactor_cli.hpp"

using fedactor::testing::fedactor_cli;

TEST_CASE("fedactor bench --json on tiny sizes reports every field for every population", "[cli]") {
  auto r = fedactor_cli(
      "bench --json --populations 50,2e2 --clients-per-round 20 --rounds 2 --probe-mib 8");
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto doc = nlohmann::json::parse(r.out);

  const auto& m = doc.at("machine");
  for (const char* key : {"cpu", "hardware_threads", "kernel_isa", "probe_threads", "probe_mib",
                          "memory_bandwidth_gbps", "fold_gbps", "fold_fraction_of_bandwidth",
                          "fedbuff_ingest_updates_per_s", "fedbuff_grouped_ingest_updates_per_s",
                          "fedbuff_grouped_edge_threads", "region_routing_per_s"})
    CHECK(m.contains(key));
  CHECK(m.at("region_routing_per_s").get<double>() > 0);
  CHECK(m.at("memory_bandwidth_gbps").get<double>() > 0);
  CHECK(m.at("fold_gbps").get<double>() > 0);
  CHECK(m.at("fedbuff_ingest_updates_per_s").get<double>() > 0);
  CHECK(m.at("fedbuff_grouped_ingest_updates_per_s").get<double>() > 0);
  CHECK(doc.at("workload").at("mode") == "sync");
  CHECK(doc.at("workload").at("rounds") == 2);

  const auto& rows = doc.at("rows");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].at("population") == 50);
  CHECK(rows[1].at("population") == 200);
  for (const auto& row : rows) {
    INFO(row.dump());
    for (const char* key : {"population",
                            "clients_per_round",
                            "rounds",
                            "round_seconds",
                            "seconds_per_round_median",
                            "clients_per_s",
                            "clients_per_s_mean",
                            "cpu_us_per_client",
                            "clients_trained",
                            "failures",
                            "peak_rss_bytes",
                            "registry_bytes",
                            "registry_bytes_per_client",
                            "population_build_s",
                            "wall_s",
                            "num_params",
                            "model_sha256",
                            "aggregated_gbps",
                            "memory_bandwidth_gbps",
                            "aggregated_fraction_of_bandwidth"})
      CHECK(row.contains(key));
    CHECK_FALSE(row.contains("error"));
    CHECK(row.at("clients_per_round") == 20);
    CHECK(row.at("rounds") == 2);
    CHECK(row.at("round_seconds").size() == 2);
    CHECK(row.at("clients_trained") == 40);
    CHECK(row.at("failures") == 0);
    CHECK(row.at("num_params") == 2762);
    CHECK(row.at("seconds_per_round_median").get<double>() > 0);
    CHECK(row.at("clients_per_s").get<double>() > 0);
    CHECK(row.at("peak_rss_bytes").get<double>() > 0);
    CHECK(row.at("registry_bytes_per_client").get<double>() >= 14);
    CHECK(row.at("population_build_s").get<double>() >= 0);
    CHECK(row.at("aggregated_fraction_of_bandwidth").get<double>() > 0);
  }
  CHECK(rows[0].at("model_sha256").get<std::string>().size() == 64);
}

TEST_CASE("fedactor bench prints a table and progress lines", "[cli]") {
  auto r = fedactor_cli("bench --populations 30 --clients-per-round 10 --rounds 1 --probe-mib 8");
  INFO(r.all());
  REQUIRE(r.code == 0);
  CHECK(r.all().find("population") != std::string::npos);
  CHECK(r.all().find("clients/s") != std::string::npos);
  CHECK(r.all().find("bench: population 30  round 1/1") != std::string::npos);
  CHECK(r.all().find("memory read bandwidth") != std::string::npos);
}

TEST_CASE("fedactor bench --mode async reports a row per population", "[cli]") {
  auto r = fedactor_cli(
      "bench --json --mode async --populations 100 --clients-per-round 10 --rounds 3 "
      "--probe-mib 8",
      false);
  INFO(r.out);
  REQUIRE(r.code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc.at("workload").at("mode") == "async");
  REQUIRE(doc.at("rows").size() == 1);
  const auto& row = doc.at("rows")[0];
  CHECK_FALSE(row.contains("error"));
  CHECK(row.at("rounds") == 3);
  CHECK(row.at("clients_trained").get<uint64_t>() >= 30);
  CHECK(row.at("clients_per_s").get<double>() > 0);
}

namespace {

fedactor::testing::cli_result bench_cmd(const std::vector<std::string>& args) {
  return fedactor::testing::in_process(
      [](const auto& a, auto& out, auto& err) { return fedactor::bench_command(a, out, err); },
      args);
}

}  // namespace

TEST_CASE("fedactor bench --help prints the usage and every option, exit 0", "[cli]") {
  auto r = bench_cmd({"--help"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.rfind("usage: fedactor bench [--populations LIST]", 0) == 0);
  for (const char* option :
       {"--populations LIST", "--clients-per-round N", "--rounds N", "--threads N",
        "--mode sync|async", "--set KEY=VALUE", "--probe-mib N", "--json", "-h [ --help ]"}) {
    INFO(option);
    CHECK(r.out.find(std::string{"\n  "} + option + " ") != std::string::npos);
  }
  CHECK(r.out.find("--row") == std::string::npos);  // internal
}

TEST_CASE("fedactor bench rejects bad arguments in one line naming option and value, exit 2",
          "[cli]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--populations", "1e3,abc"},
       "fedactor bench: --populations: 'abc' is not a whole number in [1, 4294967295]\n"},
      {{"--populations", "0"},
       "fedactor bench: --populations: '0' is not a whole number in [1, 4294967295]\n"},
      {{"--populations", ""}, "fedactor bench: --populations: empty list\n"},
      {{"--rounds", "0"},
       "fedactor bench: --rounds: expected a whole number in [1, 100000], got '0'\n"},
      {{"--clients-per-round", "-5"},
       "fedactor bench: --clients-per-round: expected a whole number in [1, 100000000], got "
       "'-5'\n"},
      {{"--threads", "x"},
       "fedactor bench: --threads: expected a whole number in [1, 1024], got 'x'\n"},
      {{"--probe-mib", "65537"},
       "fedactor bench: --probe-mib: expected a whole number in [1, 65536], got '65537'\n"},
      {{"--mode", "sometimes"},
       "fedactor bench: --mode: expected sync or async, got 'sometimes'\n"},
      {{"--frobnicate"},
       "fedactor bench: unknown option '--frobnicate' (see fedactor bench --help)\n"},
      {{"--json=1"},
       "fedactor bench: option '--json' does not take any arguments (see fedactor bench --help)\n"},
      {{"1e3"}, "fedactor bench: too many arguments (see fedactor bench --help)\n"},
      {{"--row", "10,20"}, "fedactor bench: --row takes one population\n"},
      {{"--nodes", "0"}, "fedactor bench: --nodes: expected a whole number in [1, 64], got '0'\n"},
      {{"--hosts-per-edge", "1"}, "fedactor bench: --hosts-per-edge needs --nodes\n"},
      {{"--node-threads", "1"}, "fedactor bench: --node-threads needs --nodes\n"},
      {{"--node-polling", "spin"}, "fedactor bench: --node-polling needs --nodes\n"},
      {{"--nodes", "2", "--node-polling", "often"},
       "fedactor bench: --node-polling: expected sleep or spin, got 'often'\n"},
      {{"--nodes", "2", "--populations", "1e3,1e4"},
       "fedactor bench: --nodes takes one population\n"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args.at(0));
    auto r = bench_cmd(args);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == message);
  }
  auto bad_set = bench_cmd({"--populations", "10", "--set", "training.lr=-1"});
  CHECK(bad_set.code == 2);
  CHECK(bad_set.err.rfind("error: ", 0) == 0);
  CHECK(bad_set.err.find("training.lr") != std::string::npos);
}

TEST_CASE("logged_link_bytes reads the bytes of a node's closing byte line", "[cli][bytes]") {
  CHECK(fedactor::logged_link_bytes(
            "12:00:00.000 [edge 1] bytes with the client hosts: 4612233 bytes sent (handshake 228, "
            "message 4611909, monitor 0, heartbeat 96), 1200 received (handshake 200, message "
            "1000, monitor 0, heartbeat 0), 1 connection") == 4613433);
  CHECK(fedactor::logged_link_bytes("bytes with the edges: 0 bytes sent (handshake 0, message 0, "
                                    "monitor 0, heartbeat 0), 0 received (handshake 0, message "
                                    "0, monitor 0, heartbeat 0), 0 connections") == 0);
  // With the split by message kind and by peer (runtime/host/byte_counters.hpp: describe).
  CHECK(fedactor::logged_link_bytes(
            "bytes with the client hosts: 300 bytes sent (handshake 100, message 200, monitor 0, "
            "heartbeat 0; task 150, model 0, result 0, aggregate 0, control 50, other 0), 20 "
            "received (handshake 20, message 0, monitor 0, heartbeat 0; task 0, model 0, result "
            "0, aggregate 0, control 0, other 0), 1 connection; by peer: edges 0 sent 0 "
            "received, client hosts 300 sent 20 received, unregistered peers 0 sent 0 received") ==
        320);
  CHECK(fedactor::logged_link_bytes("[server] run complete") == 0);
}

TEST_CASE("fedactor bench --nodes runs W1 across a server, 2 edges and 2 client hosts on loopback",
          "[cli][bytes][nodes]") {
  auto r = fedactor_cli(
      "bench --nodes 2 --hosts-per-edge 1 --populations 40 --clients-per-round 10 --rounds 2 "
      "--json");
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  const auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["edges"] == 2);
  CHECK(doc["hosts_per_edge"] == 1);
  CHECK(doc["processes"] == 5);
  CHECK(doc["rounds"] == 2);
  CHECK(doc["same_model"] == true);
  CHECK(doc["one_process_model_sha256"] == doc["nodes_model_sha256"]);
  CHECK(doc["one_process_model_sha256"].get<std::string>().size() == 64);
  // The server's link to the edges and each edge's link to its host.
  CHECK(doc["links_counted"] == 3);
  // 20 updates; each crossed an edge-host link as a model down and an update up (2 x 4 bytes
  // per parameter of the 2,762-parameter MLP at least).
  CHECK(doc["bytes_per_update"].get<double>() > 2 * 4 * 2762);
  CHECK(doc["nodes_updates_per_s"].get<double>() > 0);
  CHECK(doc["ratio"].get<double>() > 0);
  CHECK(doc["nodes_round_s"].size() == 2);
}
