// Aggregation trees across processes on 127.0.0.1 (fedactor node edge --parent): a server,
// edges, child edges below one of them and client hosts give the model of fedactor run; a
// middle edge killed mid-run has its subtree rerouted and its children rejoin it; a child
// edge killed mid-run has its clients trained by its parent; an edge whose --parent names
// the server is refused in one line. Ports are OS-assigned and read back from the "listening
// on" lines; every process is killed when its test ends.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/runtime/cli/node_process.hpp"
#include "tests/support/test_paths.hpp"

namespace fs = std::filesystem;
using fedactor::testing::node_process;
using namespace std::chrono_literals;

namespace {

const std::string tutorial = FEDACTOR_SOURCE_DIR + "/examples/scenarios/tutorial_sync.yaml";

// A node's start takes a second or two on an idle machine and over 20 s on two loaded cores.
constexpr auto startup = std::chrono::seconds(60);

fs::path temp_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() /
             ("fedactor_tree_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string digest(const fs::path& dir) {
  return nlohmann::json::parse(read(dir / "summary.json"))["model_sha256"].get<std::string>();
}

std::vector<nlohmann::json> metrics(const fs::path& dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(dir / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

uint64_t total(const std::vector<nlohmann::json>& records, const char* key) {
  uint64_t n = 0;
  for (auto& r : records) n += r[key].get<uint64_t>();
  return n;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string addr(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

struct cluster {
  std::vector<std::pair<std::string, std::unique_ptr<node_process>>> nodes;

  node_process& start(const std::string& name, std::vector<std::string> args) {
    nodes.emplace_back(name, std::make_unique<node_process>(std::move(args)));
    return *nodes.back().second;
  }

  ~cluster() {
    if (const char* d = std::getenv("FEDACTOR_NODE_TEST_LOG")) std::ofstream(d) << dump();
  }

  std::string dump() const {
    std::string s;
    for (auto& [name, p] : nodes) s += "---- " + name + "\n" + p->output();
    return s;
  }
};

// The bytes the server counted on its edges' links over the run (summary.json), plain TCP or
// TLS alike: every round's models went down and the edges' aggregates came up; the decrypted
// (or relayed) BASP stream's model bytes hold the models the server sent (4 bytes a value,
// model_bytes_down) plus at most 10 % of framing and other fields; the totals hold the message
// bytes and, with TLS, its record overhead (and, both ways, heartbeats): at most 10 % + 64 KiB
// more.
void check_net_bytes(const fs::path& dir) {
  // Every round's record has its bytes (a round's models may go out before the previous
  // round's record is written: the split between records is not checked).
  for (const auto& r : metrics(dir)) {
    CHECK(r.contains("net_bytes_down_by_message"));
    CHECK(r.contains("net_bytes_up_by_message"));
  }
  const auto s = nlohmann::json::parse(read(dir / "summary.json"));
  REQUIRE(s.contains("net_bytes_down"));
  REQUIRE(s.contains("net_bytes_up_by_message"));
  const auto& down = s["net_bytes_down_by_message"];
  const auto& up = s["net_bytes_up_by_message"];
  INFO(s.dump());
  const auto models = s["model_bytes_down"].get<uint64_t>();
  CHECK(models > 0);
  CHECK(down["model"].get<uint64_t>() >= models);
  CHECK(down["model"].get<uint64_t>() <= models + models / 10);
  CHECK(up["aggregate"].get<uint64_t>() > 0);
  auto sum = [](const nlohmann::json& by) {
    uint64_t n = 0;
    for (auto& [kind, bytes] : by.items()) n += bytes.get<uint64_t>();
    return n;
  };
  const auto net_down = s["net_bytes_down"].get<uint64_t>();
  const auto net_up = s["net_bytes_up"].get<uint64_t>();
  CHECK(net_down >= sum(down));
  CHECK(net_down <= sum(down) + sum(down) / 10 + 65536);
  CHECK(net_up >= sum(up));
  CHECK(net_up <= sum(up) + sum(up) / 10 + 65536);
}

// The tree below a server on port `sp` (topology.edges 2):
//
//   server ── edge 0 ── child edge 10 ── client host 0-249
//          │         └─ child edge 11 ── client host 250-499
//          └─ edge 1 ── client host 500-999
//
// Each edge registers once its client hosts or child edges have joined (--wait-hosts).
struct tree {
  node_process *edge0, *edge1, *site10, *site11;
  std::vector<node_process*> hosts;
  uint16_t edge0_port = 0, site10_port = 0;
};

// `extra`: more arguments for a node of a role ("edge", "clients"): TLS options, say.
using role_args = std::function<std::vector<std::string>(const std::string& role)>;

tree three_levels(cluster& c, uint16_t sp, const role_args& extra = {}) {
  auto more = [&](const std::string& role, std::vector<std::string> args) {
    return extra ? with(std::move(args), extra(role)) : args;
  };
  tree t;
  t.edge0 = &c.start("edge 0", more("edge", {"node", "edge", "--server", addr(sp), "--listen",
                                             "127.0.0.1:0", "--id", "0", "--wait-hosts", "2"}));
  t.edge1 = &c.start("edge 1", more("edge", {"node", "edge", "--server", addr(sp), "--listen",
                                             "127.0.0.1:0", "--id", "1", "--wait-hosts", "1"}));
  t.edge0_port = t.edge0->port(startup);
  REQUIRE(t.edge0_port != 0);
  t.site10 = &c.start("child edge 10",
                      more("edge", {"node", "edge", "--parent", addr(t.edge0_port), "--listen",
                                    "127.0.0.1:0", "--id", "10", "--wait-hosts", "1"}));
  t.site11 = &c.start("child edge 11",
                      more("edge", {"node", "edge", "--parent", addr(t.edge0_port), "--listen",
                                    "127.0.0.1:0", "--id", "11", "--wait-hosts", "1"}));
  const uint16_t e1 = t.edge1->port(startup);
  REQUIRE(e1 != 0);
  t.site10_port = t.site10->port(startup);
  REQUIRE(t.site10_port != 0);
  const uint16_t s11 = t.site11->port(startup);
  REQUIRE(s11 != 0);
  t.hosts.push_back(&c.start(
      "clients 0-249",
      more("clients", {"node", "clients", "--edge", addr(t.site10_port), "--ids", "0-249"})));
  t.hosts.push_back(&c.start("clients 250-499", more("clients", {"node", "clients", "--edge",
                                                                 addr(s11), "--ids", "250-499"})));
  t.hosts.push_back(&c.start("clients 500-999", more("clients", {"node", "clients", "--edge",
                                                                 addr(e1), "--ids", "500-999"})));
  return t;
}

}  // namespace

TEST_CASE(
    "a three-level tree of edges, child edges and client hosts gives the model of fedactor run",
    "[cli][node][tree]") {
  auto dir = temp_dir("equal");
  const std::vector<std::string> sets = {"--set", "topology.edges=2", "--set", "protocol.rounds=5"};
  cluster c;
  auto& ref =
      c.start("run", with({"run", tutorial, "--quiet", "--out", (dir / "ref").string()}, sets));
  auto& server = c.start("server", with({"node", "server", "--listen", "127.0.0.1:0", tutorial,
                                         "--quiet", "--out", (dir / "dist").string()},
                                        sets));
  const uint16_t sp = server.port(startup);
  INFO(c.dump());
  REQUIRE(sp != 0);
  auto t = three_levels(c, sp);
  REQUIRE(server.wait_exit(120s) == 0);
  REQUIRE(ref.wait_exit(60s) == 0);
  INFO(c.dump());
  CHECK(digest(dir / "dist") == digest(dir / "ref"));
  auto records = metrics(dir / "dist");
  CHECK(records.size() == 5);
  CHECK(total(records, "clients") == 500);
  CHECK(total(records, "failures") == 0);
  CHECK(total(records, "edges_lost") == 0);
  check_net_bytes(dir / "dist");
  // The children joined their parent with what their subtrees cover.
  CHECK(t.edge0->wait_for("child edge 10 (", 1s));
  CHECK(t.edge0->wait_for("child edge 11 (", 1s));
  // The run's end reaches every node down the tree, and the leaves' hosts did the training.
  for (auto* p : {t.edge0, t.edge1, t.site10, t.site11}) CHECK(p->wait_exit(20s) == 0);
  for (auto* p : t.hosts) {
    CHECK(p->wait_exit(20s) == 0);
    auto line = p->wait_for("shutdown: run complete (", 1s);
    REQUIRE(line);
    CHECK(line->find("(0 tasks") == std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE(
    "a middle edge killed mid-run: its subtree is rerouted, its children rejoin it, the "
    "model is unchanged",
    "[cli][node][tree]") {
  auto dir = temp_dir("kill_middle");
  const std::vector<std::string> sets = {"--set", "topology.edges=2",
                                         "--set", "protocol.rounds=2000",
                                         "--set", "selection.clients_per_round=10"};
  cluster c;
  auto& ref =
      c.start("run", with({"run", tutorial, "--quiet", "--out", (dir / "ref").string()}, sets));
  REQUIRE(ref.wait_exit(60s) == 0);
  auto& server = c.start("server", with({"node", "server", "--listen", "127.0.0.1:0", tutorial,
                                         "--quiet", "--out", (dir / "dist").string()},
                                        sets));
  const uint16_t sp = server.port(startup);
  INFO(c.dump());
  REQUIRE(sp != 0);
  auto t = three_levels(c, sp);
  REQUIRE(server.wait_for("edges joined; running", 60s));
  // Edge 0 counts a child as joined when it takes the child's join, before the answer reaches
  // the child: kill it only once both children hold their answers (a parent killed in between
  // is a lost join, tried again: the "an edge whose server is lost while it holds the join"
  // test of node_edge_test.cpp).
  REQUIRE(t.site10->wait_for("registered with the parent edge", 30s));
  REQUIRE(t.site11->wait_for("registered with the parent edge", 30s));
  const size_t site_before = t.site10->output_size();
  t.edge0->signal(SIGKILL);
  REQUIRE(server.wait_for("edge 0 lost", 10s));
  // The children see their parent lost and try it again; a new edge 0 on the same address.
  if (!t.site10->wait_for("lost: the parent edge", 10s, site_before))
    FAIL_CHECK("child edge 10 did not see its parent lost\n" << c.dump());
  c.start("edge 0 again",
          {"node", "edge", "--server", addr(sp), "--listen", addr(t.edge0_port), "--id", "0"});
  if (!server.wait_for("edge 0 rejoined", 30s)) FAIL_CHECK("no rejoin at the server\n" << c.dump());
  if (!t.site10->wait_for("registered again with the parent edge", 60s, site_before))
    FAIL_CHECK("child edge 10 did not rejoin its parent\n" << c.dump());
  REQUIRE(server.wait_exit(240s) == 0);
  INFO(c.dump());
  auto records = metrics(dir / "dist");
  CHECK(records.size() == 2000);
  CHECK(total(records, "edges_lost") == 1);
  CHECK(total(records, "rerouted") > 0);
  CHECK(total(records, "failures") == 0);
  CHECK(digest(dir / "dist") == digest(dir / "ref"));
  fs::remove_all(dir);
}

TEST_CASE("a child edge killed mid-run: its parent trains its clients, the model is unchanged",
          "[cli][node][tree]") {
  auto dir = temp_dir("kill_child");
  const std::vector<std::string> sets = {"--set", "topology.edges=2",
                                         "--set", "protocol.rounds=2000",
                                         "--set", "selection.clients_per_round=10"};
  cluster c;
  auto& ref =
      c.start("run", with({"run", tutorial, "--quiet", "--out", (dir / "ref").string()}, sets));
  REQUIRE(ref.wait_exit(60s) == 0);
  auto& server = c.start("server", with({"node", "server", "--listen", "127.0.0.1:0", tutorial,
                                         "--quiet", "--out", (dir / "dist").string()},
                                        sets));
  const uint16_t sp = server.port(startup);
  INFO(c.dump());
  REQUIRE(sp != 0);
  auto t = three_levels(c, sp);
  REQUIRE(server.wait_for("edges joined; running", 60s));
  t.site10->signal(SIGKILL);
  if (!t.edge0->wait_for("child edge 10 lost", 10s))
    FAIL_CHECK("edge 0 did not see its child lost\n" << c.dump());
  REQUIRE(server.wait_exit(240s) == 0);
  INFO(c.dump());
  auto records = metrics(dir / "dist");
  CHECK(records.size() == 2000);
  CHECK(total(records, "edges_lost") == 0);
  CHECK(total(records, "failures") == 0);
  CHECK(digest(dir / "dist") == digest(dir / "ref"));
  fs::remove_all(dir);
}

TEST_CASE("an edge whose --parent names the server is refused in one line, exit 2",
          "[cli][node][tree]") {
  auto dir = temp_dir("not_edge");
  cluster c;
  auto& server = c.start("server", {"node", "server", "--listen", "127.0.0.1:0", tutorial,
                                    "--quiet", "--out", (dir / "dist").string()});
  const uint16_t sp = server.port(startup);
  INFO(c.dump());
  REQUIRE(sp != 0);
  auto& child = c.start("child", {"node", "edge", "--parent", addr(sp), "--listen", "127.0.0.1:0",
                                  "--id", "0", "--join-timeout", "20s"});
  CHECK(child.wait_exit(60s) == 2);
  INFO(c.dump());
  CHECK(child.wait_for("error: --parent " + addr(sp) + " is not an edge", 1s));
  fs::remove_all(dir);
}

TEST_CASE("a three-level tree in TLS gives the model of fedactor run", "[cli][node][tree][tls]") {
  auto dir = temp_dir("tls");
  auto sh = [&](const std::string& cmd) {
    return std::system(("cd '" + dir.string() + "' && " + cmd + " >/dev/null 2>&1").c_str());
  };
  // A CA and one certificate per role, the role in OU (docs/deployment.md).
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  REQUIRE(sh("openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=ca") == 0);
  for (const std::string role : {"server", "edge", "clients"}) {
    REQUIRE(sh("openssl req " + ec + " -keyout " + role + ".key -out " + role +
               ".csr -subj /OU=" + role + "/CN=" + role) == 0);
    REQUIRE(sh("openssl x509 -req -in " + role + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial " +
               "-out " + role + ".pem -days 2") == 0);
  }
  const role_args tls = [&](const std::string& role) {
    return std::vector<std::string>{"--tls-cert", (dir / (role + ".pem")).string(),
                                    "--tls-key",  (dir / (role + ".key")).string(),
                                    "--tls-ca",   (dir / "ca.pem").string()};
  };
  const std::vector<std::string> sets = {"--set", "topology.edges=2", "--set", "protocol.rounds=3"};
  cluster c;
  auto& ref =
      c.start("run", with({"run", tutorial, "--quiet", "--out", (dir / "ref").string()}, sets));
  auto& server = c.start("server", with(with({"node", "server", "--listen", "127.0.0.1:0", tutorial,
                                              "--quiet", "--out", (dir / "dist").string()},
                                             sets),
                                        tls("server")));
  const uint16_t sp = server.port(startup);
  INFO(c.dump());
  REQUIRE(sp != 0);
  // A child edge pointed at the server refuses the server's certificate (it expects its
  // parent's edge certificate) and ends.
  auto& astray = c.start("child edge at the server",
                         with({"node", "edge", "--parent", addr(sp), "--listen", "127.0.0.1:0",
                               "--id", "99", "--join-timeout", "0s"},
                              tls("edge")));
  CHECK(astray.wait_exit(30s) != 0);
  CHECK(astray.wait_for("certificate role 'server' where 'edge' expected", 1s));
  auto t = three_levels(c, sp, tls);
  REQUIRE(server.wait_exit(120s) == 0);
  REQUIRE(ref.wait_exit(60s) == 0);
  INFO(c.dump());
  CHECK(digest(dir / "dist") == digest(dir / "ref"));
  auto records = metrics(dir / "dist");
  CHECK(records.size() == 3);
  CHECK(total(records, "failures") == 0);
  // With TLS the server counts its links' bytes as in plain TCP (encrypted totals).
  check_net_bytes(dir / "dist");
  CHECK(server.wait_for("bytes with the edges: ", 1s));
  CHECK(t.edge0->wait_for("bytes with the client hosts: ", 20s));
  CHECK(t.edge0->wait_for("client hosts 0 sent 0 received", 1s));
  CHECK(t.edge1->wait_for("bytes with the client hosts: ", 20s));
  CHECK(t.edge0->wait_for("child edge 11 (", 1s));
  for (auto* p : {t.edge0, t.edge1, t.site10, t.site11}) CHECK(p->wait_exit(20s) == 0);
  for (auto* p : t.hosts) CHECK(p->wait_exit(20s) == 0);
  // Only the stray child's handshake was refused.
  CHECK(server.output().find("certificate role") == std::string::npos);
  CHECK(t.edge0->output().find("TLS: refused") == std::string::npos);
  fs::remove_all(dir);
}
