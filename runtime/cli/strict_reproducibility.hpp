// Strict reproducibility (docs/reproducibility.md): LibTorch models give the same bytes on
// any x86-64 host with AVX2 and FMA when OpenBLAS's core type and ATen's CPU capability are
// pinned. OpenBLAS reads OPENBLAS_CORETYPE in its load-time constructor, before main(), so
// the process re-executes itself with the pins set; ATen reads ATEN_CPU_CAPABILITY at its
// first dispatched kernel and oneDNN (which picks its own ISA) is switched off by
// limit_math_threads() when FEDACTOR_REPRODUCIBILITY=strict.

#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace fedactor {

// The environment variables strict mode sets, name and value, in the order they are set.
const std::vector<std::pair<std::string, std::string>>& strict_environment();

// Whether strict mode is asked for: the leading option `--strict` (args[0], removed from
// `args`) or FEDACTOR_REPRODUCIBILITY=strict in the environment (`get` reads it). Any other
// value of FEDACTOR_REPRODUCIBILITY than `strict` or `default` is an error (one line in
// `error`, result nullopt).
std::optional<bool> strict_requested(std::vector<std::string>& args,
                                     const std::function<const char*(const char*)>& get,
                                     std::string& error);

// The pins of strict_environment() that `get` does not already hold: empty when the process
// can run as it is.
std::vector<std::pair<std::string, std::string>> strict_missing(
    const std::function<const char*(const char*)>& get);

// For main(): in strict mode, sets the missing pins and re-executes /proc/self/exe with the
// same arguments (it does not return then). Returns the exit code when the process must stop
// (2: a bad FEDACTOR_REPRODUCIBILITY or a CPU without AVX2 and FMA; 1: exec failed, with one
// line on `err`), nullopt to go on with `args` (without `--strict`).
std::optional<int> enter_reproducibility_mode(char** argv, std::vector<std::string>& args,
                                              std::ostream& err);

}  // namespace fedactor
