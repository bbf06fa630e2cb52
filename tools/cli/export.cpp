// integrad export: a model as ONNX (opset 17), for onnxruntime or any other runtime
// (nn/onnx/export.h, docs/onnx.md "Export").
#include <fmt/format.h>

#include "command.h"
#include "common.h"
#include "nn/atomic_file.h"
#include "nn/onnx/export.h"
#include "nn/output_guard.h"
#include "nn/printable.h"
#include "nn/safetensors.h"

namespace integrad::cli {
namespace {

struct ExportArgs {
  std::string model, output, dtype;
};

// The precision the model is stored in: float64 when every tensor is F64 (as Python's
// integrad.load decides), else float32.
std::string stored_dtype(const std::string& path) {
  nn::SafetensorsFile file;
  try {
    file = nn::safetensors_read(path);
  } catch (const std::exception&) {
    return "float32";  // not a .safetensors: load_model reads it, or says what is wrong with it
  }
  if (file.tensors.empty()) return "float32";
  for (const auto& [name, t] : file.tensors)
    if (t.dtype != "F64") return "float32";
  return "float64";
}

template <ad::Scalar T>
void run(const ExportArgs& a) {
  const nn::Model<T> model = nn::load_model<T>(a.model);
  nn::export_onnx(model, a.output);
  fmt::print(status_stream(a.output), "wrote {} (opset 17, {}, {} layers, {} parameters)\n", nn::printable(a.output),
             std::is_same_v<T, double> ? "float64" : "float32", model.layers.size(), model.parameter_count());
}

void check(const ExportArgs& a) {
  if (!a.output.ends_with(".onnx") && !nn::names_stdout(a.output) && a.output != "/dev/null")
    throw std::invalid_argument(fmt::format("-o {}: an ONNX model is written to a .onnx file", nn::printable(a.output)));
  nn::check_outputs({{"-o", a.output}}, {{"MODEL", a.model}});
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<ExportArgs>();
  cmd.add_option("MODEL", a->model, "Model file (.safetensors)")->required();
  cmd.add_option("-o,--output", a->output, "ONNX file to write (.onnx)")->required();
  cmd.add_option("--dtype", a->dtype, "Precision of the ONNX model (default: the model file's own: float64 when every tensor is F64)")
      ->check(CLI::IsMember({"float32", "float64"}));
  cmd.callback([a] {
    check(*a);
    ExportArgs args = *a;
    if (args.dtype.empty()) args.dtype = stored_dtype(args.model);
    with_dtype(args.dtype, [&](auto t) { run<decltype(t)>(args); });
  });
}

const bool registered = register_command({"export", "Write a model as ONNX (opset 17) for onnxruntime and other runtimes", setup});

}  // namespace
}  // namespace integrad::cli
