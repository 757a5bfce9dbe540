#include "runtime/learning/data_source.hpp"

#include "runtime/learning/synthetic_data.hpp"

namespace fedactor {

std::shared_ptr<const data_source> make_data_source(const scenario& s) {
  switch (s.data.kind) {
    case data_kind::tutorial_random:
      return std::make_shared<tutorial_random_source>(s.data, s.seed);
    case data_kind::teacher:
      return std::make_shared<teacher_source>(s.data, s.seed);
  }
  return nullptr;
}

model_spec make_model_spec(const scenario& s) {
  model_spec spec;
  spec.inputs = s.data.features;
  spec.hidden = s.model.hidden;
  spec.classes = s.data.classes;
  return spec;
}

}  // namespace fedactor
