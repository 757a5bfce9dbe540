// make_data_source and make_model_spec: the scenario's data and model, by kind.

#include "runtime/learning/data_source.hpp"

#include "runtime/learning/fashion_mnist.hpp"
#include "runtime/learning/fashion_mnist_source.hpp"
#include "runtime/learning/label_flip_source.hpp"
#include "runtime/learning/leaf_synthetic.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/learning/synthetic_data.hpp"

namespace fedactor {

namespace {

// Inputs of each data kind: {values per sample, per-sample shape, classes}.
struct data_shape {
  uint32_t inputs;
  std::vector<int64_t> shape;
  uint32_t classes;
};

data_shape shape_of(const data_config& d) {
  switch (d.kind) {
    case data_kind::fashion_mnist:
      return {fmnist_side * fmnist_side, {1, fmnist_side, fmnist_side}, fashion_mnist_classes};
    case data_kind::leaf_synthetic:
      return {leaf_dimension, {leaf_dimension}, leaf_classes};
    case data_kind::tutorial_random:
    case data_kind::teacher:
      break;
  }
  return {d.features, {d.features}, d.classes};
}

}  // namespace

namespace {

std::shared_ptr<const data_source> make_honest_source(const scenario& s) {
  switch (s.data.kind) {
    case data_kind::tutorial_random:
      return std::make_shared<tutorial_random_source>(s.data, s.seed);
    case data_kind::teacher:
      return std::make_shared<teacher_source>(s.data, s.seed);
    case data_kind::fashion_mnist:
      return std::make_shared<fashion_mnist_source>(s.data, s.population.clients, s.seed);
    case data_kind::leaf_synthetic:
      return std::make_shared<leaf_synthetic_source>(s.data, s.seed);
  }
  return nullptr;
}

}  // namespace

std::shared_ptr<const data_source> make_data_source(const scenario& s) {
  auto source = make_honest_source(s);
  if (source && s.attack.kind == attack_kind::label_flip && s.attack.fraction > 0)
    return std::make_shared<label_flip_source>(std::move(source), s.attack);
  return source;
}

model_spec make_model_spec(const scenario& s) {
  const auto d = shape_of(s.data);
  switch (s.model.kind) {
    case model_kind::cnn:
      return cnn_spec(d.shape, d.classes);
    case model_kind::torchscript:
      return torchscript_spec(s.model.path, d.inputs, d.shape, d.classes);
    case model_kind::mlp:
      break;
  }
  model_spec spec;
  spec.inputs = d.inputs;
  spec.hidden = s.model.hidden;
  spec.classes = d.classes;
  return spec;
}

}  // namespace fedactor
