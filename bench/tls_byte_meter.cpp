// The cost of counting a TLS node's bytes (runtime/host/tls_byte_meter.hpp): the same request —
// a param_blob of FLOATS values to an actor in another actor system over TLS on loopback,
// answered with its size — sent REPS times to a TLS port no meter watches (the interposers only
// forward) and REPS times to one a meter watches (listen_on: ciphertext counted, plaintext
// through two frame checks), alternating, in one run. Prints the median round trip and the
// throughput of each, their ratio, and what the meter counted. Makes its own CA and server /
// edge certificates with the openssl command in a temporary directory.
//
//   tls_byte_meter [FLOATS] [REPS]      (defaults 1000000 floats = 4 MB, 40 repetitions)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "messages/param_blob.hpp"
#include "runtime/host/node_net.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

caf::behavior sizer() {
  return {[](const param_blob& p) { return static_cast<uint64_t>(p.size()); }};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A CA and a certificate with role `server` and one with role `edge` in `dir`.
bool make_certificates(const fs::path& dir) {
  auto sh = [&](const std::string& cmd) {
    return std::system(("cd '" + dir.string() + "' && " + cmd + " >/dev/null 2>&1").c_str()) == 0;
  };
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  if (!sh("openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=ca"))
    return false;
  for (const std::string role : {"server", "edge"})
    if (!sh("openssl req " + ec + " -keyout " + role + ".key -out " + role +
            ".csr -subj /OU=" + role + "/CN=" + role) ||
        !sh("openssl x509 -req -in " + role + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial " +
            "-out " + role + ".pem -days 2"))
      return false;
  return true;
}

node_net_options tls(const fs::path& dir, const std::string& role) {
  node_net_options n;
  n.tls_cert = (dir / (role + ".pem")).string();
  n.tls_key = (dir / (role + ".key")).string();
  n.tls_ca = (dir / "ca.pem").string();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t floats = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 40;
  const fs::path dir =
      fs::temp_directory_path() / ("fedactor_tls_byte_meter_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  if (!make_certificates(dir)) {
    std::fprintf(stderr, "tls_byte_meter: cannot make certificates with openssl\n");
    return 1;
  }
  const auto server_net = tls(dir, "server");
  const auto edge_net = tls(dir, "edge");
  system_config scfg;
  configure(scfg, server_net);
  caf::actor_system server{scfg};
  auto target = server.spawn(sizer);
  auto plain = publish_on(server, target, host_port{"127.0.0.1", 0}, server_net);
  auto metered = listen_on(server, target, host_port{"127.0.0.1", 0}, server_net,
                           max_frame_bytes(floats, 1000), {});
  if (!plain || !metered || !metered->tls_bytes) {
    std::fprintf(stderr, "tls_byte_meter: cannot listen\n");
    return 1;
  }
  // Two client systems (two nodes): CAF keeps one connection per pair of nodes.
  system_config pcfg, mcfg;
  configure(pcfg, edge_net);
  configure(mcfg, edge_net);
  caf::actor_system plain_client{pcfg}, metered_client{mcfg};
  auto to_plain = connect_to<caf::actor>(plain_client, host_port{"127.0.0.1", *plain}, edge_net);
  auto to_metered =
      connect_to<caf::actor>(metered_client, host_port{"127.0.0.1", metered->port}, edge_net);
  if (!to_plain || !to_metered) {
    std::fprintf(stderr, "tls_byte_meter: cannot connect\n");
    return 1;
  }
  const param_blob blob{std::vector<float>(floats, 0.5f)};
  caf::scoped_actor plain_self{plain_client}, metered_self{metered_client};
  auto once = [&](const caf::actor& dest) {
    auto& self = dest == *to_plain ? plain_self : metered_self;
    const auto t0 = std::chrono::steady_clock::now();
    bool ok = false;
    self->request(dest, std::chrono::seconds(60), blob)
        .receive([&](uint64_t n) { ok = n == floats; }, [](caf::error&) {});
    if (!ok) {
      std::fprintf(stderr, "tls_byte_meter: a request failed\n");
      std::exit(1);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  once(*to_plain);  // warm-up: connections, first buffers
  once(*to_metered);
  std::vector<double> p, m;
  for (int i = 0; i < reps; ++i) {
    p.push_back(once(*to_plain));
    m.push_back(once(*to_metered));
  }
  const double mb = floats * sizeof(float) / 1e6;
  const double mp = median(p), mm = median(m);
  std::printf("payload %.1f MB over TLS, %d round trips each (median)\n", mb, reps);
  std::printf("not counted %8.2f ms  %8.1f MB/s\n", mp * 1e3, mb / mp);
  std::printf("counted     %8.2f ms  %8.1f MB/s\n", mm * 1e3, mb / mm);
  std::printf("counted / not counted: %.3f x the time\n", mm / mp);
  std::printf("meter: %s\n", describe(metered->tls_bytes->bytes(), "client").c_str());
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}
