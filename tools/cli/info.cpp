// integrad info: a model's layers, per-example output shapes and parameter counts; for a training
// checkpoint, also where its run stands.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command.h"
#include "common.h"
#include "nn/architecture.h"
#include "nn/checkpoint.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

void run(const std::string& path) {
  const auto meta = nn::model_metadata(path);
  const bool is_checkpoint = meta.count("epochs_done") > 0;
  nn::Model<double> model;
  if (is_checkpoint) {
    nn::Checkpoint<double> c = nn::load_checkpoint<double>(path);
    fmt::print("training checkpoint: {} epochs done, {} optimizer steps, {} optimizer tensors\nsettings: {}\n", c.resume.epochs_done,
               c.resume.optimizer.steps, c.resume.optimizer.tensors.size(), nn::printable(c.settings));
    model = std::move(c.model);
  } else {
    model = nn::load_model<double>(path);
  }
  if (model.named_inputs.empty()) fmt::print("{}\ninput {} ({})\n\n", nn::printable(path), model.input_shape.str(), nn::input_dtype_name(model.input_dtype));
  else {
    fmt::print("{}\ninputs:\n", nn::printable(path));
    for (const nn::ModelInput& in : model.named_inputs) fmt::print("  {:<22} {} ({})\n", nn::printable(in.name), in.shape.str(), nn::input_dtype_name(in.dtype));
    fmt::print("\n");
  }
  const std::vector<ad::Shape> shapes = model.output_shapes();
  auto count = [&](size_t i) { return nn::trained_parameter_count(*model.layers[i]); };
  if (model.is_chain()) {
    fmt::print("{:>3}  {:<34} {:<16} {:>10}\n", "#", "layer", "output", "parameters");
    for (size_t i = 0; i < model.layers.size(); ++i) fmt::print("{:>3}  {:<34} {:<16} {:>10}\n", i, model.layers[i]->architecture(), shapes[i].str(), count(i));
  } else {
    // A graph: the names are what --layer takes; "reads" where a node does not read the one before.
    fmt::print("{:>3}  {:<24} {:<42} {:<16} {:>10}  {}\n", "#", "name (--layer)", "layer", "output", "parameters", "reads");
    for (size_t i = 0; i < model.layers.size(); ++i) {
      std::vector<std::string> reads;
      for (int r : model.node_inputs(i)) reads.push_back(r < 0 ? nn::input_name(model, size_t(-1 - r)) : model.node_name(size_t(r)));
      const bool previous = model.node_inputs(i) == std::vector<int>{static_cast<int>(i) - 1} && (i > 0 || model.named_inputs.empty());
      fmt::print("{:>3}  {:<24} {:<42} {:<16} {:>10}  {}\n", i, nn::printable(model.node_name(i)), model.layers[i]->architecture(), shapes[i].str(), count(i),
                 previous ? "" : fmt::format("{}", fmt::join(reads, ", ")));
    }
  }
  if (!model.is_chain()) {
    const auto modules = model.modules();
    if (!modules.empty()) fmt::print("\nmodules (--layer takes them: the output of their last node):\n");
    for (const auto& [module, node] : modules) fmt::print("  {:<40} -> {}\n", nn::printable(module), nn::printable(model.node_name(node)));
  }
  if (!model.named_inputs.empty()) fmt::print("\noutput {}", model.output_shape().str());
  // An ONNX model's other names for its nodes: output tensors and PyTorch module paths.
  if (!model.aliases.empty()) {
    fmt::print("\nalso taken by --layer:\n");
    for (const auto& [alias, node] : model.aliases) fmt::print("  {:<40} -> {}\n", nn::printable(alias), nn::printable(model.node_name(node)));
  }
  if (!model.batch_elsewhere.empty()) {
    std::vector<std::string> refused;
    for (const std::string& n : model.batch_elsewhere) refused.push_back(nn::printable(n));
    fmt::print("\nnot taken by --layer (their values do not have the batch first): {}\n", fmt::join(refused, ", "));
  }
  fmt::print("\ntotal parameters: {}\n", model.parameter_count());
  if (!model.feature_names.empty()) fmt::print("features: {}\n", nn::printable(fmt::format("{}", fmt::join(model.feature_names, ", "))));
  if (!model.output_kind.empty()) fmt::print("output: {}\n", model.output_kind);
  if (meta.count("training_curve")) fmt::print("training curve: {}\n", nn::printable(meta.at("training_curve")));
}

void setup(CLI::App& cmd) {
  auto path = std::make_shared<std::string>();
  cmd.add_option("MODEL", *path, "Model file (.safetensors or .onnx)")->required();
  cmd.callback([path] { run(*path); });
}

const bool registered = register_command({"info", "Show a model's layers, output shapes and parameter counts", setup});

}  // namespace
}  // namespace integrad::cli
