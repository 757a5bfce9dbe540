#pragma once

// TorchScript modules as fedactor models (model_spec.hpp, kind torchscript): loading a module
// file with plain errors, its parameters, how each buffer is carried (the one rule used by
// torchscript_spec, the network in local_training.cpp and load_torchscript_params) and the
// flat ranges of its normalisation layers. Also defines torchscript_spec and
// load_torchscript_params (declared in local_training.hpp, which stays free of LibTorch).
// Includes LibTorch: only for the files that run models.

#include <cstdint>
#include <string>
#include <vector>

#include <torch/script.h>

#include "runtime/learning/flat_range.hpp"

namespace fedactor {

// The first line of an exception's text (LibTorch's carry backtraces).
std::string first_line(const char* what);

// The module in `path`; std::runtime_error "PATH: no such TorchScript file" or "PATH: not a
// readable TorchScript module (...)".
torch::jit::Module load_script(const std::string& path);

std::vector<torch::Tensor> script_parameters(const torch::jit::Module& m);

// How a TorchScript buffer is carried: floating point buffers as they are, an int64 buffer
// named num_batches_tracked as a counter (a float in the flat vector), any other not at all.
enum class buffer_role { floating, counter, unfederated };
buffer_role role_of(const std::string& name, const torch::Tensor& t);

// A count put into an int64 buffer: the nearest integer, halves away from zero;
// std::invalid_argument for a value that is not one.
int64_t count_of(float v, const std::string& name);

// The flat ranges of every parameter and federated buffer inside a normalisation submodule
// (model_spec::norm_ranges), sorted, adjacent ones merged.
std::vector<flat_range> norm_ranges_of(const torch::jit::Module& module);

}  // namespace fedactor
