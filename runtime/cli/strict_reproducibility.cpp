#include "runtime/cli/strict_reproducibility.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace fedactor {

const std::vector<std::pair<std::string, std::string>>& strict_environment() {
  static const std::vector<std::pair<std::string, std::string>> pins = {
      // OpenBLAS's Haswell kernels (AVX2 + FMA): the same sgemm blocking and code on every
      // x86-64-v3 host, AVX-512 ones included (read by OpenBLAS's constructor at load).
      {"OPENBLAS_CORETYPE", "Haswell"},
      // ATen's baseline kernels, compiled without -mavx2/-mavx512 (read at the first
      // dispatched kernel).
      {"ATEN_CPU_CAPABILITY", "default"},
      // Carries the mode into the re-executed process and the processes it starts;
      // limit_math_threads() switches oneDNN off when it is set.
      {"FEDACTOR_REPRODUCIBILITY", "strict"}};
  return pins;
}

std::optional<bool> strict_requested(std::vector<std::string>& args,
                                     const std::function<const char*(const char*)>& get,
                                     std::string& error) {
  bool strict = false;
  if (!args.empty() && args.front() == "--strict") {
    args.erase(args.begin());
    strict = true;
  }
  if (const char* v = get("FEDACTOR_REPRODUCIBILITY")) {
    if (std::strcmp(v, "strict") == 0) {
      strict = true;
    } else if (std::strcmp(v, "default") != 0 && !strict) {
      error = std::string("FEDACTOR_REPRODUCIBILITY: must be strict or default, got '") + v + "'";
      return std::nullopt;
    }
  }
  return strict;
}

std::vector<std::pair<std::string, std::string>> strict_missing(
    const std::function<const char*(const char*)>& get) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : strict_environment()) {
    const char* v = get(name.c_str());
    if (!v || value != v) out.emplace_back(name, value);
  }
  return out;
}

std::optional<int> enter_reproducibility_mode(char** argv, std::vector<std::string>& args,
                                              std::ostream& err) {
  const auto get = [](const char* name) -> const char* { return std::getenv(name); };
  std::string error;
  const auto strict = strict_requested(args, get, error);
  if (!strict) {
    err << "fedactor: " << error << "\n";
    return 2;
  }
  if (!*strict) return std::nullopt;
  const auto missing = strict_missing(get);
  if (missing.empty()) return std::nullopt;
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    err << "fedactor: --strict pins OpenBLAS to its Haswell kernels, which need AVX2 and FMA: "
           "this CPU has not both\n";
    return 2;
  }
  for (const auto& [name, value] : missing) setenv(name.c_str(), value.c_str(), 1);
  execv("/proc/self/exe", argv);
  err << "fedactor: --strict: cannot re-execute /proc/self/exe: " << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace fedactor
