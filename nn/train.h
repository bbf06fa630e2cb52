// The training loop: mean cross-entropy over each batch, one tape rewound every step (nothing is
// allocated per step once the first has run), optional validation after each epoch.
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "nn/dataset.h"
#include "nn/optim.h"
#include "nn/model.h"

namespace integrad::nn {

// The loss, as PyTorch defines it (mean over the batch): CrossEntropyLoss over C ≥ 2 class logits,
// BCEWithLogitsLoss on one logit with 0/1 labels, MSELoss on one output with real targets.
enum class Loss { cross_entropy, bce, mse };
Loss parse_loss(const std::string& name);                 // "cross-entropy" | "bce" | "mse"
std::string loss_name(Loss loss);
std::string output_kind_of(Loss loss);                    // what a model trained so outputs (metadata "output")

// Refuses a model and data the loss cannot train, e.g. cross-entropy on one output (a softmax over
// one output is 1 and the loss 0 whatever the labels: training "succeeded" with loss 0).
template <ad::Scalar T>
void check_loss(Loss loss, const Model<T>& model, const Dataset<T>& data);

struct TrainOptions {
  Loss loss = Loss::cross_entropy;
  int64_t epochs = 1;
  int64_t batch_size = 64;
  bool shuffle = true;
  uint64_t seed = 0;
  OptimizerOptions optimizer;
  bool skip_nonfinite = false;  // skip a batch whose loss or gradients are NaN/Inf instead of stopping
  bool progress = true;         // a progress bar on a terminal, plain lines otherwise
  // Checked after every step (e.g. set by a SIGINT handler); when it is set, train throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
};

// Training stopped by TrainOptions::stop, in the given (1-based) epoch and step.
struct Interrupted : std::runtime_error {
  Interrupted(int64_t epoch, int64_t step);
  int64_t epoch, step;
};

// Where a run resumes: the epochs already done and the optimizer's state after them.
template <ad::Scalar T>
struct ResumePoint {
  int64_t epochs_done = 0;
  OptimizerState<T> optimizer;
};

struct EpochStats {
  int64_t epoch;
  double loss;            // mean training loss over the epoch
  double train_accuracy;  // on the training batches as they were seen
  double val_accuracy;    // -1 when there is no validation set
  double seconds;
  int64_t skipped_batches;
};

// The fraction classified right: argmax over C ≥ 2 outputs, logit > 0 for one output; -1 for a
// regression (data with targets), which has no accuracy.
template <ad::Scalar T>
double accuracy(const Model<T>& model, const Dataset<T>& data, int64_t batch_size = 256);

template <ad::Scalar T>
using OnEpoch = std::function<void(const EpochStats&, const Optimizer<T>&)>;

// Trains in place for epochs [resume->epochs_done, options.epochs) — all of them without `resume`;
// returns one EpochStats per epoch trained. `on_epoch` (optional) runs after each epoch, e.g. to
// write a checkpoint. Epoch e's batches depend on (seed, e) only, so a resumed run takes the same
// steps as an uninterrupted one.
template <ad::Scalar T>
std::vector<EpochStats> train(Model<T>& model, const Dataset<T>& train_set, const Dataset<T>* val_set, const TrainOptions& options,
                              const OnEpoch<T>& on_epoch = {}, const ResumePoint<T>* resume = nullptr);

// The per-epoch history as JSON, stored in model files as metadata "training_curve", and back.
std::string training_curve_json(const std::vector<EpochStats>& history);
std::vector<EpochStats> parse_training_curve(const std::string& json);

}  // namespace integrad::nn
