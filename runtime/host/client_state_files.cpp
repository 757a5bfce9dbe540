#include "runtime/host/client_state_files.hpp"

#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <system_error>

namespace fedactor {

bool needs_client_state(const scenario& sc) {
  return sc.strategy.client == client_algorithm::scaffold ||
         sc.strategy.normalization == norm_handling::local ||
         sc.compression.kind == compression_kind::topk;  // the clients' residuals
}

std::optional<std::string> check_model_for(const scenario& sc, const model_spec& spec) {
  if (sc.strategy.normalization == norm_handling::local && spec.norm_ranges.empty())
    return std::string{
               "strategy.normalization: local (FedBN) needs a model with normalisation "
               "layers (BatchNorm, GroupNorm, LayerNorm, InstanceNorm), model.kind "} +
           to_string(sc.model.kind) + " has none";
  return std::nullopt;
}

temp_state_dir::temp_state_dir() {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  dir_ = (ec ? std::filesystem::path{"/tmp"} : base) /
         ("fedactor-state-" + std::to_string(static_cast<long>(getpid())) + "-" +
          std::to_string(counter++));
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error(dir_.string() + ": cannot create: " + ec.message());
}

temp_state_dir::~temp_state_dir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace fedactor
