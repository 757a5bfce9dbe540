// The output directory and console lines of a run (fedactor run, fedactor node server).

#include "runtime/cli/run_output.hpp"

#include <cstdio>
#include <ctime>

#include "runtime/learning/local_training.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

std::string format_eta(double seconds) {
  char buf[32];
  if (seconds >= 3600)
    std::snprintf(buf, sizeof(buf), "%dh%02dm", int(seconds / 3600), int(seconds / 60) % 60);
  else if (seconds >= 60)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", int(seconds / 60), int(seconds) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  return buf;
}

}  // namespace

std::string default_out_dir(const scenario& s) {
  auto now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + s.name + "-" + stamp;
}

run_output::run_output(const scenario& sc, std::string dir, bool quiet)
    : writer_(dir.empty() ? default_out_dir(sc) : dir),
      quiet_(quiet),
      rounds_(sc.protocol.mode == protocol_mode::async ? sc.async.aggregations
                                                       : sc.protocol.rounds),
      async_(sc.protocol.mode == protocol_mode::async) {
  writer_.write_text("scenario.yaml", to_yaml(sc));
}

void run_output::on_round(const round_record& r) {
  writer_.write(r);
  elapsed_ += r.wall_s;
  if (quiet_) return;
  const double eta = elapsed_ / r.round * (rounds_ - r.round);
  std::string extra;
  if (r.edges_lost > 0) extra += "  edges lost " + std::to_string(r.edges_lost);
  if (r.rerouted > 0) extra += "  rerouted " + std::to_string(r.rerouted);
  if (r.edges_rejoined > 0) extra += "  edges rejoined " + std::to_string(r.edges_rejoined);
  std::fprintf(stderr,
               "%s %u/%u  loss %.4f  clients %u  failures %u  %.0f clients/s  %.2fs  left %s%s\n",
               async_ ? "aggregation" : "round", r.round, rounds_, r.mean_loss, r.clients,
               r.failures, r.clients_per_s, r.wall_s, format_eta(eta).c_str(), extra.c_str());
}

void run_output::finish(const model_spec& spec, const federation_result& result) {
  save_model_pt(spec, result.model, writer_.dir() + "/model.pt");
  writer_.write_summary(result.summary);
  const auto& s = result.summary;
  std::printf(
      "%s: %u rounds, %llu clients trained, %llu failures, %.2fs, %.0f clients/s, "
      "final loss %.4f\nmodel sha256 %s, l2 %.6f, peak RSS %.1f MiB\noutput: %s\n",
      s.scenario.c_str(), s.rounds, static_cast<unsigned long long>(s.clients_trained),
      static_cast<unsigned long long>(s.failures), s.wall_s, s.mean_clients_per_s, s.final_loss,
      s.model_sha256.c_str(), s.model_l2, s.peak_rss_bytes / 1048576.0, writer_.dir().c_str());
  std::fflush(stdout);
}

}  // namespace fedactor
