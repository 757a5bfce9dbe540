#include "runtime/checkpoint/run_checkpoint.hpp"

#include <system_error>

#include "runtime/checkpoint/checkpoint_file.hpp"

namespace fedactor {

namespace {

constexpr uint32_t body_layout = 1;

void put_eval(byte_writer& w, const round_record& r) {
  w.put_u8(r.evaluated ? 1 : 0);
  w.put_u32(r.round);
  w.put_f64(r.test_loss);
  w.put_f64(r.test_accuracy);
  w.put_u32(r.test_samples);
  w.put_f64(r.client_accuracy);
  w.put_u32(r.eval_clients);
}

round_record get_eval(byte_reader& r) {
  round_record e;
  e.evaluated = r.get_u8("evaluated") != 0;
  e.round = r.get_u32("evaluated round");
  e.test_loss = r.get_f64("test loss");
  e.test_accuracy = r.get_f64("test accuracy");
  e.test_samples = r.get_u32("test samples");
  e.client_accuracy = r.get_f64("client accuracy");
  e.eval_clients = r.get_u32("eval clients");
  return e;
}

}  // namespace

void write_run_checkpoint(const std::filesystem::path& dir, const run_checkpoint& c) {
  byte_writer w;
  w.put_u32(body_layout);
  w.put_string(c.scenario_yaml);
  w.put_u32(c.round);
  w.put_u8(c.finished ? 1 : 0);
  w.put_string(c.client_state);
  w.put_f64(c.round_wall_s);
  put_eval(w, c.last_eval);
  w.put_bytes(c.loop);
  write_checkpoint_file(checkpoint_state_file(dir), w.bytes());
  // Snapshots no checkpoint names any more (older ones, or one a crash left uncommitted).
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("client_state-", 0) == 0 && name != c.client_state) {
      std::error_code rm;
      std::filesystem::remove(e.path(), rm);
    }
  }
}

run_checkpoint read_run_checkpoint(const std::filesystem::path& dir) {
  const auto file = checkpoint_state_file(dir);
  const auto body = read_checkpoint_file(file);
  byte_reader r(body.data(), body.size(), file.string());
  const uint32_t layout = r.get_u32("layout");
  if (layout != body_layout) r.fail("unknown checkpoint layout " + std::to_string(layout));
  run_checkpoint c;
  c.scenario_yaml = r.get_string("scenario");
  c.round = r.get_u32("round");
  c.finished = r.get_u8("finished") != 0;
  c.client_state = r.get_string("client state file");
  c.round_wall_s = r.get_f64("round wall time");
  c.last_eval = get_eval(r);
  c.loop = r.get_bytes("loop state");
  r.finish();
  if (!c.client_state.empty()) {
    std::error_code ec;
    if (c.client_state.find('/') != std::string::npos ||
        !std::filesystem::is_regular_file(dir / c.client_state, ec))
      throw checkpoint_error(file.string() + ": its client state snapshot " +
                             (dir / c.client_state).string() + " is missing");
  }
  return c;
}

}  // namespace fedactor
