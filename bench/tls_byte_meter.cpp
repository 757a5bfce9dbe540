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

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <caf/actor_system.hpp>

#include "bench/round_trips.hpp"
#include "runtime/host/node_net.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

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
  auto target = server.spawn(bench::sizer);
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
  bench::compare_round_trips("tls_byte_meter", floats, reps,
                             {"not counted", &plain_client, *to_plain},
                             {"counted", &metered_client, *to_metered});
  std::printf("meter: %s\n", describe(metered->tls_bytes->bytes(), "client").c_str());
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}
