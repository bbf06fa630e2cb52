// The training loop: mean cross-entropy over each batch, one tape rewound every step (nothing is
// allocated per step once the first has run), optional validation after each epoch.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/dataset.h"
#include "nn/optim.h"
#include "nn/sequential.h"

namespace integrad::nn {

struct TrainOptions {
  int64_t epochs = 1;
  int64_t batch_size = 64;
  bool shuffle = true;
  uint64_t seed = 0;
  OptimizerOptions optimizer;
  bool skip_nonfinite = false;  // skip a batch whose loss or gradients are NaN/Inf instead of stopping
  bool progress = true;         // a progress bar on a terminal, plain lines otherwise
};

struct EpochStats {
  int64_t epoch;
  double loss;            // mean training loss over the epoch
  double train_accuracy;  // on the training batches as they were seen
  double val_accuracy;    // -1 when there is no validation set
  double seconds;
  int64_t skipped_batches;
};

template <ad::Scalar T>
double accuracy(const Sequential<T>& model, const Dataset<T>& data, int64_t batch_size = 256);

// Trains in place; returns one EpochStats per epoch. `on_epoch` (optional) runs after each epoch,
// e.g. to write a checkpoint.
template <ad::Scalar T>
std::vector<EpochStats> train(Sequential<T>& model, const Dataset<T>& train_set, const Dataset<T>* val_set, const TrainOptions& options,
                              const std::function<void(const EpochStats&)>& on_epoch = {});

// The per-epoch history as JSON, stored in model files as metadata "training_curve".
std::string training_curve_json(const std::vector<EpochStats>& history);

}  // namespace integrad::nn
