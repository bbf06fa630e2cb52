// integrad predict: a model's outputs (logits) for inputs, as .npy.
#include <fmt/format.h>

#include "command.h"
#include "common.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "several_inputs.h"
#include "shard.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct PredictArgs {
  std::string model, inputs, output, dtype;
  int64_t batch_size = 256;
  Shard shard;
};

template <ad::Scalar T>
void run(const PredictArgs& a) {
  nn::check_outputs({{"-o", a.output}}, {{"MODEL", a.model}, {"INPUT", a.inputs}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  if (model.input_count() > 1) {  // an .npz of the named inputs
    if (a.shard.given) throw std::invalid_argument("--shard: not yet for .npz inputs");
    const std::vector<ad::Tensor<T>> xs = attr::inputs_in_order(model, load_named_inputs(a.inputs, model), nn::printable(a.inputs));
    const ad::Tensor<T> logits = model.predict(std::span<const ad::Tensor<T>>(xs), a.batch_size);
    warn_nonfinite(logits, "predict", "outputs");
    nn::npy_write(a.output, logits);
    fmt::print(status_stream(a.output), "wrote {} {}\n", nn::printable(a.output), logits.shape().str());
    return;
  }
  ExampleRange range;
  const ad::Tensor<T> x = load_shard_inputs(a.inputs, model, a.shard, range);
  warn_nonfinite(x, "predict", "inputs");
  note_if_no_examples("predict", a.inputs, x.size(0), range.total);
  const ad::Tensor<T> logits = model.predict(x, a.batch_size);
  warn_nonfinite(logits, "predict", "outputs");
  nn::npy_write(a.output, logits);
  write_range_sidecar(a.output, a.shard, range);
  fmt::print(status_stream(a.output), "wrote {} {}\n", nn::printable(a.output), logits.shape().str());
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<PredictArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, ...], one PNG image, or an .npz of arrays named by the model's inputs")->required();
  cmd.add_option("-o,--output", a->output, "Logits .npy [N, C]")->required();
  cmd.add_option("--batch-size", a->batch_size, "Examples per forward pass")->default_val(256)->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  add_shard_option(cmd, a->shard);
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"predict", "Run a model on inputs and write the logits (.npy)", setup});

}  // namespace
}  // namespace integrad::cli
