// integrad info: a model's layers, per-example output shapes and parameter counts; for a training
// checkpoint, also where its run stands.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "command.h"
#include "common.h"
#include "nn/checkpoint.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

void run(const std::string& path) {
  const auto meta = nn::model_metadata(path);
  const bool is_checkpoint = meta.count("epochs_done") > 0;
  nn::Sequential<double> model;
  if (is_checkpoint) {
    nn::Checkpoint<double> c = nn::load_checkpoint<double>(path);
    fmt::print("training checkpoint: {} epochs done, {} optimizer steps, {} optimizer tensors\nsettings: {}\n", c.resume.epochs_done,
               c.resume.optimizer.steps, c.resume.optimizer.tensors.size(), nn::printable(c.settings));
    model = std::move(c.model);
  } else {
    model = nn::load_model<double>(path);
  }
  fmt::print("{}\ninput {} ({})\n\n{:>3}  {:<34} {:<16} {:>10}\n", nn::printable(path), model.input_shape.str(), nn::input_dtype_name(model.input_dtype), "#", "layer", "output",
             "parameters");
  const std::vector<ad::Shape> shapes = model.output_shapes();
  for (size_t i = 0; i < model.layers.size(); ++i) {
    int64_t count = 0;
    for (auto* p : model.layers[i]->parameters()) count += p->value.numel();
    fmt::print("{:>3}  {:<34} {:<16} {:>10}\n", i, model.layers[i]->architecture(), shapes[i].str(), count);
  }
  fmt::print("\ntotal parameters: {}\n", model.parameter_count());
  if (!model.feature_names.empty()) fmt::print("features: {}\n", nn::printable(fmt::format("{}", fmt::join(model.feature_names, ", "))));
  if (!model.output_kind.empty()) fmt::print("output: {}\n", model.output_kind);
  if (meta.count("training_curve")) fmt::print("training curve: {}\n", nn::printable(meta.at("training_curve")));
}

void setup(CLI::App& cmd) {
  auto path = std::make_shared<std::string>();
  cmd.add_option("MODEL", *path, "Model file (.safetensors)")->required();
  cmd.callback([path] { run(*path); });
}

const bool registered = register_command({"info", "Show a model's layers, output shapes and parameter counts", setup});

}  // namespace
}  // namespace integrad::cli
