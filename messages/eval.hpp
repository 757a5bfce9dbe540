#pragma once

// Evaluation of the global model: the server sends eval_ins to the evaluator, which
// answers eval_res with the model's loss and accuracy on the test split and, optionally,
// its mean accuracy on a sample of clients' local data.

#include <cstdint>

#include <caf/meta/type_name.hpp>

#include "messages/exact_double.hpp"
#include "messages/param_blob.hpp"

namespace fedactor {

struct eval_ins {
  uint32_t round = 0;  // the round whose model this is (echoed in eval_res)
  param_blob model;    // the global model (shared, not copied)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, eval_ins& x) {
  return f(caf::meta::type_name("eval_ins"), x.round, x.model);
}

struct eval_res {
  uint32_t round = 0;
  double loss = 0;             // mean cross-entropy on the test split
  double accuracy = 0;         // fraction of the test split classified correctly
  uint32_t samples = 0;        // test samples evaluated; 0 = the data has no test split
  double client_accuracy = 0;  // mean over the sampled clients of their local accuracy
  uint32_t clients = 0;        // clients evaluated (eval.clients); 0 = none
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, eval_res& x) {
  return f(caf::meta::type_name("eval_res"), x.round, exact(x.loss), exact(x.accuracy), x.samples,
           exact(x.client_accuracy), x.clients);
}

}  // namespace fedactor
