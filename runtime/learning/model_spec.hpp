#pragma once

// Shape of a built-in model and its flat parameter layout, without LibTorch.
// An MLP in → hidden… → classes with ReLU between layers. Flat layout, layer by layer:
// weight [out × in] row-major, then bias [out] — the order of torch::nn::Linear's
// parameters(), so flat vectors and LibTorch modules map one to one.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fedactor {

struct model_spec {
  uint32_t inputs = 32;
  std::vector<uint32_t> hidden = {64};
  uint32_t classes = 10;

  // Layer widths including input and output: {inputs, hidden..., classes}.
  std::vector<uint32_t> widths() const;
  size_t num_params() const;

  bool operator==(const model_spec& other) const {
    return inputs == other.inputs && hidden == other.hidden && classes == other.classes;
  }
};

// PyTorch's default nn.Linear initialisation (weights and biases uniform in
// ±1/sqrt(fan_in)), drawn from the seeded stream so the initial model is a function of
// the scenario seed.
std::vector<float> initial_params(const model_spec& spec, uint64_t seed);

}  // namespace fedactor
