// Training checkpoints: everything `integrad train --resume` needs to continue a run to the same
// final weights as an uninterrupted one. One safetensors file holds the weights ("model.{name}"),
// the optimizer's state ("optimizer.{k}.exp_avg", ...) and, in __metadata__, the architecture, the
// epochs done, the optimizer's step count, the training curve and the settings a resumed run must
// repeat. One file, written whole, so weights and optimizer state can never disagree.
#pragma once

#include <string>
#include <vector>

#include "nn/optim.h"
#include "nn/model.h"
#include "nn/train.h"

namespace integrad::nn {

template <ad::Scalar T>
struct Checkpoint {
  Model<T> model;
  ResumePoint<T> resume;
  std::vector<EpochStats> history;
  std::string settings;  // JSON object of the run's settings
};

// Where the checkpoint of a run writing `model_path` lives: "m.safetensors" → "m.checkpoint.safetensors".
std::string checkpoint_path(const std::string& model_path);

template <ad::Scalar T>
void save_checkpoint(const std::string& path, const Model<T>& model, const OptimizerState<T>& optimizer, const std::vector<EpochStats>& history,
                     const std::string& settings, const std::string& dtype);

template <ad::Scalar T>
Checkpoint<T> load_checkpoint(const std::string& path);

// The settings of `saved` that `wanted` asks to change, as "key: saved → wanted" lines (empty when
// none): a run resumed with other settings would not end where the uninterrupted run would.
std::vector<std::string> changed_settings(const std::string& saved, const std::string& wanted);

}  // namespace integrad::nn
