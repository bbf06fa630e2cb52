// integrad train: a named architecture on a named data set, or a given model file (its weights as
// the start) on --inputs/--labels; writes the trained model with its training curve, and after
// every epoch a checkpoint that --resume continues from (after Ctrl-C, SIGTERM or a crash).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "command.h"
#include "common.h"
#include "several_inputs.h"
#include "nn/architecture.h"
#include "nn/atomic_file.h"
#include "nn/checkpoint.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "nn/npz.h"
#include "nn/onnx/read.h"
#include "nn/onnx/write_back.h"
#include "nn/output_guard.h"
#include "nn/train.h"
#include "stop_signal.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct TrainArgs {
  std::string model, arch, output, dtype, loss = "cross-entropy";
  DataOptions data;
  nn::TrainOptions train;
  bool no_shuffle = false, quiet = false, resume = false;
  int64_t val_limit = 10000;
};

// What a resumed run must repeat to end where the uninterrupted run would (--epochs may grow).
std::string settings_json(const TrainArgs& a) {
  const auto& o = a.train.optimizer;
  nlohmann::json j{{"optimizer", o.name},
                        {"lr", o.lr},
                        {"momentum", o.momentum},
                        {"nesterov", o.nesterov},
                        {"weight_decay", o.weight_decay},
                        {"batch_size", a.train.batch_size},
                        {"shuffle", !a.no_shuffle},
                        {"seed", a.train.seed},
                        {"skip_nonfinite", a.train.skip_nonfinite},
                        {"dtype", a.dtype},
                        {"data", a.data.data},
                        {"inputs", a.data.inputs},
                        {"labels", a.data.labels},
                        {"limit", a.data.limit}};
  if (a.loss != "cross-entropy") j["loss"] = a.loss;  // absent from the checkpoints of runs before --loss
  return j.dump();
}

// The outputs a fresh architecture gets: one for bce and mse, else one per class of the labels.
template <ad::Scalar T>
int64_t outputs_for(nn::Loss loss, const nn::Dataset<T>& data) {
  if (loss != nn::Loss::cross_entropy) return 1;
  int64_t classes = data.num_classes;
  for (int64_t l : data.labels) classes = std::max(classes, l + 1);
  return std::max<int64_t>(classes, 2);
}

// The checkpoint to continue from, checked against this run's model and settings.
template <ad::Scalar T>
nn::Checkpoint<T> checkpoint_to_resume(const TrainArgs& a, const std::string& path, const nn::Model<T>& fresh) {
  if (!std::filesystem::exists(path))
    throw std::invalid_argument(fmt::format("--resume: no checkpoint {} (a run with -o {} writes it after each epoch)", path, a.output));
  nn::Checkpoint<T> c = nn::load_checkpoint<T>(path);
  std::vector<std::string> changes = nn::changed_settings(c.settings, settings_json(a));
  if (c.model.architecture() != fresh.architecture()) changes.push_back(fmt::format("architecture: {} → {}", c.model.architecture(), fresh.architecture()));
  if (!changes.empty())
    throw std::invalid_argument(fmt::format("--resume: {} was written by a run with other settings; repeat them, or start afresh without --resume:\n  {}",
                                            path, fmt::join(changes, "\n  ")));
  std::vector<nn::Parameter<T>*> params;
  for (auto& [name, p] : c.model.named_parameters())
    if (!p->buffer) params.push_back(p);
  try {
    nn::make_optimizer<T>(a.train.optimizer, params)->load_state(c.resume.optimizer);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return c;
}

template <ad::Scalar T>
void run(const TrainArgs& a) {
  nn::check_outputs({{"-o", a.output}, {"its checkpoint", nn::checkpoint_path(a.output)}},
                    {{"MODEL", a.model}, {"--inputs", a.data.inputs}, {"--labels", a.data.labels}});
  // Signals are caught from here on, so a SIGTERM at any point unwinds and releases the lock
  // (training stops before its first step if one came while the data was loading).
  catch_stop_signals();
  // Held until the run ends, on both files the run writes: a second `train -o` onto either (its
  // model, or -o naming this run's checkpoint) is refused, not interleaved.
  const nn::OutputLock lock(a.output), checkpoint_lock(nn::checkpoint_path(a.output));
  if (!a.model.empty() && !a.arch.empty())
    throw std::invalid_argument(fmt::format("give either a MODEL file ({}) or --arch {}, not both: the MODEL's architecture is its own", a.model, a.arch));
  const nn::Loss loss = nn::parse_loss(a.loss);
  DataOptions data = a.data;
  if (data.data.empty() && data.inputs.empty() && !a.arch.empty()) data.data = nn::named_architecture_entry(a.arch).default_data;
  data.values = loss == nn::Loss::mse;
  nn::Model<T> model;
  std::optional<nn::Dataset<T>> loaded;  // a fresh architecture is sized by its data, loaded first
  if (!a.model.empty()) {
    model = nn::load_model<T>(a.model);
  } else {
    if (nn::is_npz_path(data.inputs))
      throw std::invalid_argument(fmt::format("--arch builds a model of one input; --inputs {} is for a MODEL file of named inputs (docs/inputs.md): give "
                                              "--inputs X.npy or X.csv",
                                              nn::printable(data.inputs)));
    if (a.arch.empty()) throw std::invalid_argument(fmt::format("give a MODEL file or --arch {}", fmt::join(nn::named_architecture_names(), "|")));
    const nn::NamedArchitecture& arch = nn::named_architecture_entry(a.arch);
    const nn::InputDtype dtype = arch.input_dtype == nn::InputDtype::int64 ? nn::InputDtype::int64 : sizeof(T) == 8 ? nn::InputDtype::float64 : nn::InputDtype::float32;
    if (!data.data.empty()) {
      const nn::NamedDataset& set = nn::named_dataset(data.data);
      if ((set.input_dtype == nn::InputDtype::int64) != (dtype == nn::InputDtype::int64))
        throw std::invalid_argument(fmt::format("--arch {} does not fit --data {} ({} inputs)", a.arch, data.data, set.input_dtype == nn::InputDtype::int64 ? "token-id" : "real-valued"));
    }
    // The input shape and the outputs come from the data: --arch tabular on a .csv of 3 features
    // is Linear(3, 32)..., on iris Linear(4, 32)...Linear(32, 3).
    loaded = load_data<T>(data, true);
    const ad::Shape input_shape = loaded->inputs.shape().without(0);
    model = nn::parse_architecture<T>(arch.layers(input_shape, outputs_for(loss, *loaded)), input_shape, dtype, a.train.seed);
  }
  model.output_kind = nn::output_kind_of(loss);
  const std::string checkpoint = nn::checkpoint_path(a.output);
  std::vector<nn::EpochStats> history;
  std::optional<nn::ResumePoint<T>> resume;
  if (a.resume) {
    // The checkpoint is this run's own output, read back: not an input the outputs must avoid.
    std::optional<nn::OutputSet::Suspended> own_output(std::in_place);
    nn::Checkpoint<T> c = checkpoint_to_resume(a, checkpoint, model);
    own_output.reset();
    model = std::move(c.model);
    history = std::move(c.history);
    resume = std::move(c.resume);
    if (resume->epochs_done >= a.train.epochs) {
      fmt::print("{} already holds {} epochs; nothing to do (raise --epochs to train further)\n", nn::printable(checkpoint), resume->epochs_done);
      return;
    }
    fmt::print("resuming from {} after epoch {}\n", nn::printable(checkpoint), resume->epochs_done);
  }
  // A model of several inputs, or an .npz: the arrays by input name (MODEL.safetensors or .onnx alike).
  const bool named = !loaded && uses_named_inputs(model, data.inputs);
  const nn::Dataset<T> train_set = loaded ? std::move(*loaded) : named ? load_named_data<T>(data, model) : load_data<T>(data, true, model.feature_names);
  // A tabular model keeps its features' names (metadata feature_names): explain prints them.
  if (model.feature_names.empty() && model.input_shape.rank() == 1 && int64_t(train_set.feature_names.size()) == model.input_shape[0])
    model.feature_names = train_set.feature_names;
  if (train_set.inputs.shape() != nn::with_batch(train_set.size(), model.input_shape))
    throw std::invalid_argument(fmt::format("the data's examples have shape {}, the model expects {}", train_set.inputs.shape().str(), model.input_shape.str()));
  std::optional<nn::Dataset<T>> val;
  if (!data.data.empty() && !named) {
    DataOptions v = data;
    v.limit = a.val_limit;
    val = load_data<T>(v, false);
  }
  // A model read from ONNX goes back into its graph: refuse now, not after the epochs, one whose
  // parameters cannot be written back there (one the reader computed rather than copied).
  if (nn::is_onnx_path(a.output) && nn::read_from_onnx(model)) (void)nn::onnx_written_back(model);
  if (named) fmt::print("inputs {} from {}\n", input_list(model), nn::printable(data.inputs));
  // A chain prints as its one line of layers; a graph's text is a line per node (integrad info lists them).
  const std::string arch_text = model.architecture();
  const std::string summary = arch_text.find('\n') == std::string::npos ? arch_text : fmt::format("a graph of {} nodes", model.layers.size());
  fmt::print("training {} ({} parameters) on {} examples, {} epochs, {} lr {}, batch {}\n", summary, model.parameter_count(),
             train_set.size(), a.train.epochs, a.train.optimizer.name, a.train.optimizer.lr, a.train.batch_size);
  nn::TrainOptions options = a.train;
  options.shuffle = !a.no_shuffle;
  options.progress = !a.quiet;
  options.stop = &stop_requested;
  options.loss = loss;
  const std::string dtype = sizeof(T) == 8 ? "F64" : "F32", settings = settings_json(a);
  // After every epoch, the model and the checkpoint, each written whole: an interrupted run leaves
  // the last finished epoch on disk and --resume continues from it.
  auto save = [&](const nn::EpochStats& e, const nn::Optimizer<T>& optimizer) {
    history.push_back(e);
    nn::save_checkpoint(checkpoint, model, optimizer.state(), history, settings, dtype);
    nn::save_model(a.output, model, dtype, {{"training_curve", nn::training_curve_json(history)}});
    if (nn::OutputSet* outputs = nn::OutputSet::current()) outputs->commit();  // this epoch's model and checkpoint, together
  };
  try {
    nn::train<T>(model, train_set, val ? &*val : nullptr, options, save, resume ? &*resume : nullptr);
  } catch (const std::runtime_error& e) {
    // A stop between steps (Interrupted) or in the epoch's writing (nn::Stopped): the files hold the
    // last epoch committed.
    if (!dynamic_cast<const nn::Interrupted*>(&e) && !dynamic_cast<const nn::Stopped*>(&e)) throw;
    if (history.empty() || (dynamic_cast<const nn::Stopped*>(&e) && history.size() == 1))
      fmt::print(stderr, "\nintegrad train: {}; no epoch had finished, nothing was written\n", e.what());
    else
      fmt::print(stderr, "\nintegrad train: {}; {} and {} hold epoch {} — run the same command with --resume to continue\n", e.what(), a.output,
                 checkpoint, history.size() - (dynamic_cast<const nn::Stopped*>(&e) ? 1 : 0));
    throw ExitStatus{128 + stop_signal.load()};
  }
  if (val && !val->is_regression()) fmt::print("test accuracy {:.4f} on {} examples\n", history.back().val_accuracy, val->size());
  fmt::print("wrote {} (checkpoint {})\n", nn::printable(a.output), nn::printable(checkpoint));
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<TrainArgs>();
  cmd.add_option("MODEL", a->model, "Start from this model file (.safetensors or .onnx)");
  cmd.add_option("--arch", a->arch, "Named architecture")->check(CLI::IsMember(nn::named_architecture_names()));
  a->data.add_to(cmd);
  cmd.get_option("--inputs")->description("Inputs .npy [N, ...] or .csv; for a MODEL of several inputs an .npz of arrays by input name (docs/inputs.md)");
  cmd.add_option("--loss", a->loss, "cross-entropy (C >= 2 class logits) | bce (one logit, labels 0/1) | mse (one output, real targets); as PyTorch defines them")
      ->default_val("cross-entropy")
      ->check(CLI::IsMember({"cross-entropy", "bce", "mse"}));
  cmd.add_option("--epochs", a->train.epochs, "Passes over the training set")->default_val(1)->check(CLI::Range(int64_t(1), int64_t(100000)));
  cmd.add_option("--batch-size", a->train.batch_size, "Examples per step")->default_val(64)->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  cmd.add_option("--lr", a->train.optimizer.lr, "Learning rate")->default_val(1e-3);
  cmd.add_option("--optimizer", a->train.optimizer.name, "sgd | adam | adamw")->default_val("adam")->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  cmd.add_option("--momentum", a->train.optimizer.momentum, "SGD momentum")->default_val(0.0);
  cmd.add_flag("--nesterov", a->train.optimizer.nesterov, "SGD with Nesterov momentum");
  cmd.add_option("--weight-decay", a->train.optimizer.weight_decay, "L2 (SGD, Adam) or decoupled (AdamW) weight decay")->default_val(0.0);
  add_seed_option(cmd, a->train.seed, "Seed for initialisation and shuffling");
  cmd.add_flag("--no-shuffle", a->no_shuffle, "Take the batches in order (the last one possibly smaller)");
  cmd.add_flag("--skip-nonfinite", a->train.skip_nonfinite, "Skip batches whose loss or gradients are NaN/Inf instead of stopping");
  add_int_option(cmd, "--val-limit", a->val_limit, 1, std::numeric_limits<int64_t>::max(), "Test examples used for validation (default 10000)");
  cmd.add_flag("--resume", a->resume, "Continue from the checkpoint next to --output (same settings; --epochs may grow)");
  cmd.add_flag("-q,--quiet", a->quiet, "No progress output");
  cmd.add_option("-o,--output", a->output, "Output model file: .safetensors, or .onnx (a MODEL.onnx written back into its own graph, any other exported)")->required();
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"train", "Train a model (named architecture or MODEL file) and write it as .safetensors", setup});

}  // namespace
}  // namespace integrad::cli
