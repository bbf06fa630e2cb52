// Optimizers with PyTorch's exact update rules and defaults (torch.optim.SGD, Adam, AdamW).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/layer.h"

namespace integrad::nn {

struct OptimizerOptions {
  std::string name = "adam";  // sgd | adam | adamw
  double lr = 1e-3;
  double momentum = 0;      // SGD
  double dampening = 0;     // SGD
  bool nesterov = false;    // SGD
  double weight_decay = 0;  // L2 for SGD and Adam; decoupled for AdamW (PyTorch's AdamW default is 0.01)
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// What an optimizer carries from one step to the next, for checkpoints: the number of steps taken
// and named per-parameter tensors, named as torch.optim's state_dict() names them
// ("{k}.exp_avg", "{k}.exp_avg_sq", "{k}.momentum_buffer" for the k-th parameter).
template <ad::Scalar T>
struct OptimizerState {
  int64_t steps = 0;
  std::map<std::string, ad::Tensor<T>> tensors;
};

template <ad::Scalar T>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its accumulated gradient.
  virtual void step() = 0;
  virtual OptimizerState<T> state() const = 0;
  // Continues from a saved state; a tensor this optimizer does not know, or of the wrong shape, is
  // an error naming it.
  virtual void load_state(const OptimizerState<T>& state) = 0;
};

template <ad::Scalar T>
std::unique_ptr<Optimizer<T>> make_optimizer(const OptimizerOptions& options, std::vector<Parameter<T>*> parameters);

}  // namespace integrad::nn
