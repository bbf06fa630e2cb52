// integrad attention: every TransformerEncoderLayer's attention weights [N, layers, heads, T, T]
// (PyTorch's need_weights=True, average_attn_weights=False), or with --rollout attention rollout
// [N, T, T] (Abnar & Zuidema 2020), as .npy.
#include <fmt/format.h>

#include "attribution/methods/attention.h"
#include "command.h"
#include "common.h"
#include "several_inputs.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct AttentionArgs {
  std::string model, inputs, output, dtype;
  bool rollout = false;
  int64_t batch_size = 64;
};

template <ad::Scalar T>
void run(const AttentionArgs& a) {
  nn::check_outputs({{"-o", a.output}}, {{"MODEL", a.model}, {"INPUT", a.inputs}});
  const nn::Model<T> model = nn::load_model<T>(a.model);
  refuse_several_inputs(model, a.model, "attention");
  attr::attention_layers(model);  // refuses a model without attention before reading the inputs
  const ad::Tensor<T> x = load_inputs(a.inputs, model);
  note_if_no_examples("attention", a.inputs, x.size(0));
  ad::Tensor<T> out = attr::attention_weights(model, x, a.batch_size);
  if (a.rollout) out = attr::attention_rollout(out);
  nn::npy_write(a.output, out);
  fmt::print(status_stream(a.output), "wrote {} {}{}\n", nn::printable(a.output), out.shape().str(), a.rollout ? " (rollout)" : " [N, layers, heads, T, T]");
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<AttentionArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors) with TransformerEncoderLayers")->required();
  cmd.add_option("INPUT", a->inputs, "Inputs .npy [N, T] (token ids) or [N, T, d]")->required();
  cmd.add_option("-o,--output", a->output, "Attention weights .npy [N, layers, heads, T, T], or with --rollout [N, T, T]")->required();
  cmd.add_flag("--rollout", a->rollout, "Attention rollout (head mean + identity, rows renormalised, multiplied from the first layer up)");
  cmd.add_option("--batch-size", a->batch_size, "Examples per forward pass")->default_val(64)->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  add_dtype_option(cmd, a->dtype);
  cmd.callback([a] { with_dtype(a->dtype, [&](auto t) { run<decltype(t)>(*a); }); });
}

const bool registered = register_command({"attention", "Write a transformer's attention weights per layer and head, or their rollout (.npy)", setup});

}  // namespace
}  // namespace integrad::cli
