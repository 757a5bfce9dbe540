// Writes the seed corpus of the message fuzz targets: each message type written as a node
// writes it (caf::binary_serializer), a few values apiece, to fuzz/corpus/TYPE/NAME. Run
// from the fuzz build: `build-fuzz/fuzz/fuzz_seed_corpus fuzz/corpus`. Its output is
// committed; the other targets' seeds (scenario YAML, IDX, BASP, accumulator) are written
// by hand or by this program as noted below.

#include <zlib.h>
#include <limits>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_serializer.hpp>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/eval.hpp"
#include "messages/host_batch.hpp"
#include "messages/host_task.hpp"
#include "messages/node.hpp"
#include "messages/param_blob.hpp"
#include "messages/run.hpp"
#include "messages/train.hpp"
#include "messages/tree.hpp"
#include "runtime/math/accumulator.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

fs::path root;

void write(const std::string& target, const std::string& name, const std::vector<char>& bytes) {
  fs::create_directories(root / target);
  std::ofstream out(root / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "cannot write " << (root / target / name) << '\n';
    std::exit(1);
  }
}

template <class T>
void message(caf::actor_system& sys, const std::string& target, const std::string& name, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(x)) {
    std::cerr << "cannot serialize " << target << '\n';
    std::exit(1);
  }
  write(target, name, buf);
}

train_settings settings() {
  train_settings s;
  s.epochs = 2;
  s.batch_size = 16;
  s.lr = 0.05;
  s.algorithm = "fedprox";
  s.params = {{"prox_mu", 0.01}};
  return s;
}

std::vector<char> accumulator_bytes(size_t dim, int updates) {
  weighted_accumulator acc(dim);
  std::vector<float> x(dim);
  for (int u = 0; u < updates; ++u) {
    for (size_t i = 0; i < dim; ++i) x[i] = 0.25f * static_cast<float>(i + 1) - 0.5f * u;
    acc.add(x.data(), 10.0 + u, 0.5 * u);
  }
  return acc.serialize();
}

// A BASP frame header: operation, 2 padding bytes, flags, payload length, operation data,
// source and destination actor, big-endian.
std::vector<char> basp_header(uint8_t op, uint32_t payload, uint64_t op_data, uint64_t src,
                              uint64_t dst) {
  std::vector<char> h(32, 0);
  h[0] = static_cast<char>(op);
  auto put = [&h](size_t at, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) h[at + i] = static_cast<char>(v >> (8 * (n - 1 - i)));
  };
  put(4, payload, 4);
  put(8, op_data, 8);
  put(16, src, 8);
  put(24, dst, 8);
  return h;
}

// An IDX file of unsigned bytes, its mode byte first (fuzz/idx.cpp): dims as given.
std::vector<char> idx_bytes(const std::vector<uint32_t>& dims) {
  std::vector<char> out;
  out.push_back(static_cast<char>(dims.size() - 1));  // ndims, and "gzip it for me"
  out.insert(out.end(), {0, 0, 8, static_cast<char>(dims.size())});
  uint64_t total = 1;
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(d >> s));
    total *= d;
  }
  for (uint64_t i = 0; i < total; ++i) out.push_back(static_cast<char>(i * 37));
  return out;
}

// The same file gzipped, as found on disk (mode bit 2: "the rest is the file").
std::vector<char> idx_gz_file(const std::vector<char>& with_mode) {
  std::vector<char> raw(with_mode.begin() + 1, with_mode.end());
  uLongf cap = compressBound(raw.size()) + 32;
  std::vector<char> out(1 + 18 + cap);
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // gzip wrapper
  z.next_in = reinterpret_cast<Bytef*>(raw.data());
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data() + 1);
  z.avail_out = static_cast<uInt>(out.size() - 1);
  deflate(&z, Z_FINISH);
  out.resize(1 + z.total_out);
  deflateEnd(&z);
  out[0] = static_cast<char>(with_mode[0] | 4);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seed_corpus DIR (fuzz/corpus)\n";
    return 2;
  }
  root = argv[1];
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const param_blob model{std::vector<float>{0.5f, -1.25f, 3.0f, 0.0f}};
  const param_blob aux{std::vector<float>{0.125f, 0.25f}};

  message(sys, "param_blob", "empty", param_blob{});
  message(sys, "param_blob", "four", model);
  message(sys, "train_settings", "default", train_settings{});
  message(sys, "train_settings", "fedprox", settings());
  message(sys, "train_ins", "plain", train_ins{3, 17, 2, 99, model, settings(), 60, {}});
  message(sys, "train_ins", "aux", train_ins{3, 17, 2, 99, model, train_settings{}, 60, aux});
  message(sys, "train_res", "plain", train_res{3, 17, 2, 120, 0.75, model, {}, {}});
  message(sys, "train_res", "aux", train_res{3, 17, 2, 120, 0.75, model, aux, {}});
  {
    edge_ins e{4, 3, 7, model, {5, 9}, settings(), 30, aux, robust_settings{}, 0};
    message(sys, "edge_ins", "two_clients", e);
    e.robust.norm_mode = norm_bound_mode::clip;
    e.robust.norm_bound = 2.5;
    e.robust.rule = robust_rule_kind::krum;
    e.robust.krum_f = 1;
    e.robust.krum_m = 2;
    message(sys, "edge_ins", "robust", e);
    e.robust = robust_settings{};
    e.clip = 0.75;
    message(sys, "edge_ins", "dp_clip", e);
  }
  {
    edge_res r;
    r.round = 4;
    r.edge = 1;
    r.aggregate = accumulator_bytes(4, 2);
    r.failed_by = {0, 1, 0, 0};
    r.failures = {"client 9: timeout"};
    r.live_clients = 2;
    r.peak_live_clients = 3;
    r.evictions = 1;
    message(sys, "edge_res", "one_failure", r);
    r.aux_aggregate = accumulator_bytes(2, 1);
    message(sys, "edge_res", "aux", r);
  }
  {
    run_report r;
    r.rounds = 5;
    r.model_version = 5;
    r.clients_trained = 50;
    r.failures = 2;
    r.failures_by = {1, 1, 0};
    r.final_loss = 0.4;
    r.model = model;
    r.sim_time_s = 12.5;
    r.interrupted = true;
    r.stopped_by = "SIGINT";
    message(sys, "run_report", "stopped", r);
    r.norm_clipped = 3;
    r.private_run = true;
    r.epsilon = std::numeric_limits<double>::infinity();  // noise_multiplier 0
    r.delta = 1e-5;
    r.final_clip = 0.5;
    message(sys, "run_report", "private", r);
  }
  message(sys, "eval_ins", "model", eval_ins{2, model});
  message(sys, "eval_res", "clients", eval_res{2, 0.5, 0.875, 1000, 0.8, 10});
  message(sys, "async_ins", "forward",
          async_ins{11, 4, 3, 77, 1.5, model, settings(), 60, 0, false});
  message(sys, "async_ins", "group", async_ins{12, 5, 3, 78, 2.5, model, settings(), 60, 2, true});
  message(sys, "async_ins", "reference",
          async_ins{13, 6, 3, 79, 3.5, param_blob{}, settings(), 60, 0, false, std::string(64, 'a'),
                    true});
  message(sys, "async_res", "update", async_res{11, 4, async_update{100, 0.5, model, {}}});
  message(sys, "async_res", "held", async_res{12, 5, async_held{}});
  message(sys, "async_res", "group",
          async_res{13, 6, async_group{accumulator_bytes(4, 3), {11, 12, 13}, 0}});
  message(sys, "async_res", "refused",
          async_res{14, 7,
                    async_refused{2, "client 7: rejected update: has 7 parameters, expected 4"}});
  message(sys, "group_close", "three", group_close{2, 3});
  message(sys, "node_hello", "edge", node_hello{"edge", 1, node_protocol_version});
  message(sys, "node_hello", "clients", node_hello{"clients", 100, node_protocol_version});
  message(sys, "node_welcome", "small",
          node_welcome{"population:\n  clients: 10\ntopology:\n  edges: 2\n", 2});
  message(sys, "edge_join", "no_actors", edge_join{1, "eu", 8, "127.0.0.1:7001", {}, {}});
  message(sys, "host_join", "no_actor", host_join{0, 99, "host-a", {}});
  message(sys, "node_ack", "accepted", node_ack{true, "welcome"});
  message(sys, "node_ack", "refused", node_ack{false, "protocol 1, expected 2"});
  message(sys, "node_shutdown", "done", node_shutdown{"run complete"});
  message(sys, "edge_rejoin", "no_actor", edge_rejoin{1, {}});
  message(sys, "child_join", "no_actors", child_join{10, "site a", {0, 249}, {}, {}});
  message(sys, "edge_cover", "two_ranges", edge_cover{10, {0, 249, 500, 501}});
  message(
      sys, "host_task", "full",
      host_task{train_ins{3, 17, 2, 99, model, settings(), 60, {}}, std::string(64, 'a'), false});
  message(sys, "host_task", "reference",
          host_task{train_ins{3, 17, 2, 99, {}, settings(), 60, {}}, std::string(64, 'a'), true});
  message(sys, "host_batch", "full",
          host_batch{edge_ins{4, 3, 7, model, {5, 9}, settings(), 30, {}, robust_settings{}, 0},
                     std::string(64, 'b'), false});
  message(sys, "host_batch", "reference",
          host_batch{edge_ins{4, 3, 7, {}, {5, 9}, settings(), 30, {}, robust_settings{}, 0},
                     std::string(64, 'b'), true});

  // accumulator: one, and two back to back (the first as long as its dim says).
  write("accumulator", "dim4", accumulator_bytes(4, 2));
  write("accumulator", "empty", weighted_accumulator(3).serialize());
  {
    auto two = accumulator_bytes(2, 1);
    auto b = accumulator_bytes(2, 3);
    two.insert(two.end(), b.begin(), b.end());
    write("accumulator", "two_dim2", two);
  }

  // basp_frame_check: mode byte (bound 2^24, 8-byte reads), then frames.
  {
    std::vector<char> s{7};
    auto hs = basp_header(0, 16, 1, 0, 0);
    s.insert(s.end(), hs.begin(), hs.end());
    s.insert(s.end(), 16, 'p');
    auto msg = basp_header(2, 8, 0, 5, 6);
    s.insert(s.end(), msg.begin(), msg.end());
    s.insert(s.end(), 8, 'm');
    auto hb = basp_header(6, 0, 0, 0, 0);
    s.insert(s.end(), hb.begin(), hb.end());
    write("basp_frame_check", "handshake_message_heartbeat", s);
    std::vector<char> bad{0};
    auto empty_hs = basp_header(0, 0, 1, 0, 0);  // the handshake without payload
    bad.insert(bad.end(), empty_hs.begin(), empty_hs.end());
    write("basp_frame_check", "empty_handshake", bad);
  }

  // idx: raw IDX bytes (the target gzips them) and a gzip file as found on disk.
  write("idx", "three_dims", idx_bytes({2, 3, 4}));
  write("idx", "labels", idx_bytes({10}));
  write("idx", "three_dims_gz", idx_gz_file(idx_bytes({2, 3, 4})));
  std::cout << "wrote the seed corpus to " << root << '\n';
  return 0;
}
