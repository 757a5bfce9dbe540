// Tests for `fedactor bench` (runtime/cli/bench_command): runs the binary on tiny sizes.

#include "runtime/cli/bench_command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace {

struct cli_result {
  int code = -1;
  std::string out;  // stdout only
  std::string all;  // stdout and stderr
};

// Runs the fedactor binary with `args` (a shell-quoted string) from the source dir.
cli_result fedactor_cli(const std::string& args, bool merge_stderr) {
  std::string cmd = "cd '" FEDACTOR_SOURCE_DIR "' && timeout 300 '" FEDACTOR_BINARY "' " + args +
                    (merge_stderr ? " 2>&1" : " 2>/dev/null");
  cli_result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  std::string text;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  (merge_stderr ? r.all : r.out) = text;
  return r;
}

}  // namespace

TEST_CASE("fedactor bench --json on tiny sizes reports every field for every population", "[cli]") {
  auto r = fedactor_cli(
      "bench --json --populations 50,2e2 --clients-per-round 20 --rounds 2 --probe-mib 8", false);
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
  auto r =
      fedactor_cli("bench --populations 30 --clients-per-round 10 --rounds 1 --probe-mib 8", true);
  INFO(r.all);
  REQUIRE(r.code == 0);
  CHECK(r.all.find("population") != std::string::npos);
  CHECK(r.all.find("clients/s") != std::string::npos);
  CHECK(r.all.find("bench: population 30  round 1/1") != std::string::npos);
  CHECK(r.all.find("memory read bandwidth") != std::string::npos);
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

TEST_CASE("fedactor bench rejects bad arguments with exit code 2", "[cli]") {
  CHECK(fedactor_cli("bench --populations 1e3,abc", true).code == 2);
  CHECK(fedactor_cli("bench --populations 0", true).code == 2);
  CHECK(fedactor_cli("bench --rounds 0", true).code == 2);
  CHECK(fedactor_cli("bench --mode sometimes", true).code == 2);
  CHECK(fedactor_cli("bench --frobnicate", true).code == 2);
  auto bad_set = fedactor_cli("bench --populations 10 --set training.lr=-1", true);
  CHECK(bad_set.code == 2);
  CHECK(bad_set.all.find("training.lr") != std::string::npos);
}
