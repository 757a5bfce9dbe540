// Tests of runtime/checkpoint/run_checkpoint.*: a run's checkpoint directory reads back what was
// written, names its client state snapshot and removes the ones it no longer names.

#include "runtime/checkpoint/run_checkpoint.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto d = fs::temp_directory_path() /
           ("fedactor_run_ckpt_" + name + "_" + std::to_string(static_cast<long>(getpid())));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) {
  std::ofstream out(p);
  out << "x";
}

}  // namespace

TEST_CASE("run_checkpoint round-trips and keeps only the client state snapshot it names",
          "[checkpoint]") {
  const auto dir = fresh_dir("roundtrip");
  touch(dir / "client_state-2.db");
  touch(dir / "client_state-4.db");
  touch(dir / "client_state-6.db");  // left by a crash before its checkpoint was committed
  run_checkpoint c;
  c.scenario_yaml = "name: x\n";
  c.round = 4;
  c.client_state = "client_state-4.db";
  c.round_wall_s = 1.5;
  c.last_eval.evaluated = true;
  c.last_eval.round = 4;
  c.last_eval.test_accuracy = 0.5;
  c.last_eval.test_loss = 1.25;
  c.last_eval.test_samples = 100;
  c.last_eval.client_accuracy = 0.25;
  c.last_eval.eval_clients = 3;
  c.loop = {'l', 'o', 'o', 'p'};
  write_run_checkpoint(dir, c);
  CHECK(fs::exists(dir / "client_state-4.db"));
  CHECK_FALSE(fs::exists(dir / "client_state-2.db"));
  CHECK_FALSE(fs::exists(dir / "client_state-6.db"));
  const auto d = read_run_checkpoint(dir);
  CHECK(d.scenario_yaml == c.scenario_yaml);
  CHECK(d.round == 4);
  CHECK_FALSE(d.finished);
  CHECK(d.client_state == "client_state-4.db");
  CHECK(d.round_wall_s == 1.5);
  CHECK(d.last_eval.evaluated);
  CHECK(d.last_eval.round == 4);
  CHECK(d.last_eval.test_accuracy == 0.5);
  CHECK(d.last_eval.test_loss == 1.25);
  CHECK(d.last_eval.test_samples == 100);
  CHECK(d.last_eval.client_accuracy == 0.25);
  CHECK(d.last_eval.eval_clients == 3);
  CHECK(d.loop == c.loop);
  fs::remove_all(dir);
}

TEST_CASE("run_checkpoint refuses a checkpoint whose client state snapshot is missing",
          "[checkpoint]") {
  const auto dir = fresh_dir("missing_state");
  CHECK_THROWS_WITH(read_run_checkpoint(dir),
                    (dir / "state.ckpt").string() + ": no checkpoint (the file does not exist)");
  run_checkpoint c;
  c.client_state = "client_state-2.db";
  write_run_checkpoint(dir, c);
  CHECK_THROWS_WITH(read_run_checkpoint(dir),
                    (dir / "state.ckpt").string() + ": its client state snapshot " +
                        (dir / "client_state-2.db").string() + " is missing");
  fs::remove_all(dir);
}
