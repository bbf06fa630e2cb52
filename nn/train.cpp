#include "nn/train.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "nn/batches.h"
#include "nn/stop.h"

namespace integrad::nn {

namespace {

using Clock = std::chrono::steady_clock;


// Predicted classes: argmax over C ≥ 2 outputs; for one logit, 1 where it is positive.
template <ad::Scalar T>
std::vector<int64_t> predicted_classes(const ad::Tensor<T>& logits) {
  if (logits.numel() != logits.size(0) || logits.rank() < 2 || logits.size(1) >= 2) return ad::row_argmax(logits);
  std::vector<int64_t> out;
  for (T z : logits.span()) out.push_back(z > T(0) ? 1 : 0);
  return out;
}

template <ad::Scalar T>
int64_t count_correct(ad::Var<T> logits, std::span<const int64_t> labels) {
  if (labels.empty()) return 0;  // a regression
  const std::vector<int64_t> predicted = predicted_classes(logits.tensor());
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == labels[i];
  return correct;
}

template <ad::Scalar T>
bool all_finite(Model<T>& model) {
  for (auto& [name, p] : model.named_parameters())
    for (T g : p->grad.span())
      if (!std::isfinite(g)) return false;
  return true;
}

// Every input of the data set, rows `rows` of each: one batch, the same examples in every input.
template <ad::Scalar T>
void batch_inputs(ad::Tape<T>& tape, const Dataset<T>& data, std::span<const int64_t> rows, std::vector<ad::Var<T>>& xs) {
  xs.clear();
  xs.push_back(tape.leaf(gather_rows(data.inputs, rows)));
  for (const ad::Tensor<T>& x : data.other_inputs) xs.push_back(tape.leaf(gather_rows(x, rows)));
}

// The outputs of a model of several inputs on every example, a batch of rows at a time (no copy of
// the whole data set: Model::predict takes the inputs side by side).
template <ad::Scalar T>
ad::Tensor<T> predict_several(const Model<T>& model, const Dataset<T>& data, int64_t batch_size) {
  const int64_t n = data.size();
  const ad::Shape out_shape = model.output_shape();
  ad::Tensor<T> out(with_batch(n, out_shape));
  std::vector<ad::Tensor<T>> chunk(data.other_inputs.size() + 1);
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    for (size_t k = 0; k < chunk.size(); ++k) {
      const ad::Tensor<T>& x = k == 0 ? data.inputs : data.other_inputs[k - 1];
      const int64_t row = x.shape().stride(0);
      chunk[k] = ad::Tensor<T>(x.shape().with(0, count), std::span<const T>(x.data() + start * row, static_cast<size_t>(count * row)));
    }
    const ad::Tensor<T> y = model.predict(std::span<const ad::Tensor<T>>(chunk), batch_size);
    std::copy(y.span().begin(), y.span().end(), out.data() + start * out_shape.numel());
  }
  return out;
}

// The data against the model's inputs: one tensor per input, each of the model's per-example shape
// and of the labels' N. The loaders say which file or array is wrong; this guards the C++ API.
template <ad::Scalar T>
void check_inputs(const Model<T>& model, const Dataset<T>& data) {
  const size_t count = data.other_inputs.size() + 1;
  if (count != model.input_count())
    throw std::invalid_argument(fmt::format("the data hold {} input{} per example; the model reads {}", count, count == 1 ? "" : "s", model.input_count()));
  for (size_t k = 0; k < count; ++k) {
    const ad::Tensor<T>& x = k == 0 ? data.inputs : data.other_inputs[k - 1];
    const std::string name = model.named_inputs.empty() ? std::string("input") : model.named_inputs[k].name;
    if (x.shape() != with_batch(x.rank() ? x.size(0) : 0, model.input_shape_of(k)))
      throw std::invalid_argument(fmt::format("input '{}' has shape {}; the model reads examples of shape {}", name, x.shape().str(), model.input_shape_of(k).str()));
    if (x.size(0) != data.size())
      throw std::invalid_argument(fmt::format("input '{}' holds {} examples, the labels {}", name, x.size(0), data.size()));
  }
}

// A progress line: redrawn in place on a terminal, printed every ~10% otherwise.
class Progress {
 public:
  Progress(bool enabled, int64_t epoch, int64_t epochs, int64_t batches)
      : enabled_(enabled), tty_(::isatty(STDOUT_FILENO)), epoch_(epoch), epochs_(epochs), batches_(batches), start_(Clock::now()) {}
  void update(int64_t batch, double loss, double acc, int64_t examples) {
    if (!enabled_) return;
    const bool last = batch + 1 == batches_;
    const int64_t every = std::max<int64_t>(1, batches_ / 10);
    if (!tty_ && !last && (batch + 1) % every != 0) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const double eta = secs / double(batch + 1) * double(batches_ - batch - 1);
    const int width = 24, filled = static_cast<int>(width * (batch + 1) / batches_);
    std::string bar = std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
    fmt::print("{}epoch {}/{} [{}] {}/{} loss {:.4f} acc {:.3f} {:.0f} ex/s ETA {:.0f}s{}", tty_ ? "\r" : "", epoch_ + 1, epochs_, bar, batch + 1,
               batches_, loss, acc, double(examples) / std::max(secs, 1e-9), eta, tty_ && !last ? "" : "\n");
    std::fflush(stdout);
  }

 private:
  bool enabled_, tty_;
  int64_t epoch_, epochs_, batches_;
  Clock::time_point start_;
};

}  // namespace

Loss parse_loss(const std::string& name) {
  if (name == "cross-entropy") return Loss::cross_entropy;
  if (name == "bce") return Loss::bce;
  if (name == "mse") return Loss::mse;
  throw std::invalid_argument(fmt::format("--loss must be cross-entropy, bce or mse; got '{}'", name));
}

std::string loss_name(Loss loss) { return loss == Loss::bce ? "bce" : loss == Loss::mse ? "mse" : "cross-entropy"; }

std::string output_kind_of(Loss loss) { return loss == Loss::bce ? "binary-logit" : loss == Loss::mse ? "regression" : "logits"; }

template <ad::Scalar T>
void check_loss(Loss loss, const Model<T>& model, const Dataset<T>& data) {
  const int64_t outputs = model.output_shape().numel();
  switch (loss) {
    case Loss::cross_entropy:
      if (data.is_regression()) throw std::invalid_argument("--loss cross-entropy needs class labels; these data are values (a regression): use --loss mse");
      if (outputs < 2)
        throw std::invalid_argument("--loss cross-entropy needs at least two outputs; this model has one (a softmax over one output is 1 and the loss 0 "
                                    "whatever the labels): use --loss bce for 0/1 labels, or --loss mse for values");
      return;
    case Loss::bce:
      if (outputs != 1) throw std::invalid_argument(fmt::format("--loss bce trains one logit; this model has {} outputs (use --loss cross-entropy)", outputs));
      if (data.is_regression()) throw std::invalid_argument("--loss bce needs 0/1 labels; these data are values (a regression): use --loss mse");
      for (size_t i = 0; i < data.labels.size(); ++i)
        if (data.labels[i] != 0 && data.labels[i] != 1)
          throw std::invalid_argument(fmt::format("--loss bce needs labels 0 and 1; example {} has label {}", i, data.labels[i]));
      return;
    case Loss::mse:
      if (outputs != 1) throw std::invalid_argument(fmt::format("--loss mse trains one output; this model has {}", outputs));
      return;
  }
}

template <ad::Scalar T>
double accuracy(const Model<T>& model, const Dataset<T>& data, int64_t batch_size) {
  if (data.is_regression()) return -1;
  if (data.size() == 0) return 0;
  const ad::Tensor<T> logits = data.other_inputs.empty() ? model.predict(data.inputs, batch_size) : predict_several(model, data, batch_size);
  const std::vector<int64_t> predicted = predicted_classes(logits);
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data.labels[i];
  return double(correct) / double(data.size());
}

// The validation pass polls Ctrl-C too (Model::predict); a stop there is one after the epoch's
// last step, before the epoch is saved.
template <ad::Scalar T>
double validation_accuracy(const Model<T>& model, const Dataset<T>& val, int64_t epoch, int64_t steps) {
  try {
    return accuracy(model, val);
  } catch (const Stopped&) {
    throw Interrupted(epoch + 1, steps);
  }
}

template <ad::Scalar T>
std::vector<EpochStats> train(Model<T>& model, const Dataset<T>& data, const Dataset<T>* val, const TrainOptions& options,
                              const OnEpoch<T>& on_epoch, const ResumePoint<T>* resume) {
  if (options.batch_size < 1) throw std::invalid_argument("batch size must be at least 1");
  if (data.size() == 0) throw std::invalid_argument("the training set is empty");
  check_inputs(model, data);
  if (val) check_inputs(model, *val);
  check_loss(options.loss, model, data);
  // Class labels against the model's outputs, before any step (the loss would say "cross_entropy:
  // target 10 outside [0, 10)" from inside a batch).
  if (const ad::Shape out = model.output_shape(); options.loss == Loss::cross_entropy && out.rank() == 1)
    for (size_t i = 0; i < data.labels.size(); ++i)
      if (data.labels[i] < 0 || data.labels[i] >= out[0])
        throw std::invalid_argument(fmt::format("the label of example {} is {}, but the model has {} outputs (classes 0 to {})", i, data.labels[i], out[0], out[0] - 1));
  std::vector<Parameter<T>*> params;
  for (auto& [name, p] : model.named_parameters()) {
    if (p->buffer) continue;  // running statistics: updated by the forward, not stepped
    p->grad = ad::Tensor<T>(p->value.shape());
    params.push_back(p);
  }
  auto optimizer = make_optimizer<T>(options.optimizer, params);
  if (resume) optimizer->load_state(resume->optimizer);
  ad::Tape<T> tape;
  std::vector<EpochStats> history;
  for (int64_t epoch = resume ? resume->epochs_done : 0; epoch < options.epochs; ++epoch) {
    const auto start = Clock::now();
    const auto batches = make_batches(data.size(), options.batch_size, options.shuffle, options.seed + uint64_t(epoch));
    Progress progress(options.progress, epoch, options.epochs, static_cast<int64_t>(batches.size()));
    double loss_sum = 0;
    int64_t seen = 0, correct = 0, skipped = 0;
    std::vector<int64_t> labels;
    std::vector<T> values;  // the targets of bce and mse
    std::vector<ad::Var<T>> xs;  // the batch of each input
    for (size_t b = 0; b < batches.size(); ++b) {
      const auto& rows = batches[b];
      labels.clear();
      values.clear();
      for (int64_t r : rows) {
        if (data.is_regression()) values.push_back(T(data.targets[size_t(r)]));
        else labels.push_back(data.labels[static_cast<size_t>(r)]);
        if (!data.is_regression() && options.loss != Loss::cross_entropy) values.push_back(T(labels.back()));
      }
      // The forward polls Ctrl-C between layers (nn/stop.h); here a stop abandons the step before
      // any weight changes, and is reported as one between steps.
      ad::Var<T> logits;
      try {
        batch_inputs(tape, data, rows, xs);
        logits = xs.size() == 1 ? model.forward(tape, xs[0], Grads::parameters) : model.forward(tape, std::span<const ad::Var<T>>(xs), Grads::parameters);
      } catch (const Stopped&) {
        tape.rewind();
        throw Interrupted(epoch + 1, static_cast<int64_t>(b));
      }
      ad::Var<T> loss = options.loss == Loss::cross_entropy ? ad::cross_entropy(logits, labels)
                        : options.loss == Loss::bce         ? ad::binary_cross_entropy_with_logits(logits, std::span<const T>(values))
                                                            : ad::mse(ad::reshape(logits, ad::Shape{logits.shape()[0]}),
                                                                      tape.leaf(ad::Tensor<T>(ad::Shape{int64_t(values.size())}, values)));
      model.zero_grad();
      tape.backward(loss);
      const double l = double(loss.item());
      if (!std::isfinite(l) || !all_finite(model)) {
        if (!options.skip_nonfinite)
          throw std::runtime_error(fmt::format("training stopped: {} at epoch {} step {} (lower the learning rate, or pass --skip-nonfinite to skip such batches)",
                                               std::isfinite(l) ? "non-finite gradient" : fmt::format("loss is {}", l), epoch + 1, b + 1));
        ++skipped;
        tape.rewind();
        continue;
      }
      correct += count_correct(logits, labels);
      tape.rewind();
      optimizer->step();
      // A step of a finite gradient can still leave infinite weights (--lr 1e308): nothing
      // after it would notice, and the model file would hold them.
      for (auto& [name, param] : model.named_parameters())
        for (T v : param->value.span())
          if (!std::isfinite(v))
            throw std::runtime_error(fmt::format("training diverged: parameter '{}' holds {} after epoch {} step {}; lower the learning rate (--lr)", name,
                                                 double(v), epoch + 1, b + 1));
      loss_sum += l * double(rows.size());
      seen += static_cast<int64_t>(rows.size());
      progress.update(static_cast<int64_t>(b), loss_sum / double(std::max<int64_t>(seen, 1)), double(correct) / double(std::max<int64_t>(seen, 1)), seen);
      if (options.stop && options.stop->load()) throw Interrupted(epoch + 1, static_cast<int64_t>(b) + 1);
    }
    EpochStats stats{epoch + 1, loss_sum / double(std::max<int64_t>(seen, 1)), data.is_regression() ? -1.0 : double(correct) / double(std::max<int64_t>(seen, 1)),
                     val ? validation_accuracy(model, *val, epoch, static_cast<int64_t>(batches.size())) : -1.0, std::chrono::duration<double>(Clock::now() - start).count(), skipped};
    if (options.progress && val) fmt::print("epoch {}/{}: validation accuracy {:.4f}\n", epoch + 1, options.epochs, stats.val_accuracy);
    history.push_back(stats);
    if (on_epoch) on_epoch(stats, *optimizer);
  }
  return history;
}

Interrupted::Interrupted(int64_t e, int64_t s)
    : std::runtime_error(fmt::format("training interrupted in epoch {} at step {}", e, s)), epoch(e), step(s) {}

std::vector<EpochStats> parse_training_curve(const std::string& text) {
  std::vector<EpochStats> history;
  try {
    // A list of flat objects: deeper nesting is refused as it opens, before the parser builds it.
    auto flat = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
      using E = nlohmann::json::parse_event_t;
      if ((event == E::object_start || event == E::array_start) && depth >= 2) throw std::invalid_argument("training_curve nests deeper than a list of epochs");
      return true;
    };
    for (const auto& e : nlohmann::json::parse(text, flat))
      history.push_back({e.at("epoch").get<int64_t>(), e.at("loss").get<double>(), e.at("train_accuracy").get<double>(), e.at("val_accuracy").get<double>(),
                         e.at("seconds").get<double>(), 0});
  } catch (const nlohmann::json::exception& e) {
    // Without the parser's "[json.exception.type_error.302] ": the user's words, not the library's.
    std::string what = e.what();
    if (what.starts_with("[json.exception.")) what.erase(0, what.find("] ") == std::string::npos ? 0 : what.find("] ") + 2);
    throw std::invalid_argument("training_curve is not a list of epochs: " + what);
  }
  return history;
}

std::string training_curve_json(const std::vector<EpochStats>& history) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : history)
    j.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_accuracy", e.train_accuracy}, {"val_accuracy", e.val_accuracy}, {"seconds", e.seconds}});
  return j.dump();
}

template void check_loss<float>(Loss, const Model<float>&, const Dataset<float>&);
template void check_loss<double>(Loss, const Model<double>&, const Dataset<double>&);
template double accuracy<float>(const Model<float>&, const Dataset<float>&, int64_t);
template double accuracy<double>(const Model<double>&, const Dataset<double>&, int64_t);
template std::vector<EpochStats> train<float>(Model<float>&, const Dataset<float>&, const Dataset<float>*, const TrainOptions&, const OnEpoch<float>&,
                                              const ResumePoint<float>*);
template std::vector<EpochStats> train<double>(Model<double>&, const Dataset<double>&, const Dataset<double>*, const TrainOptions&,
                                               const OnEpoch<double>&, const ResumePoint<double>*);

}  // namespace integrad::nn
