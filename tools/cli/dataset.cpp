// integrad dataset: write (part of) a named data set as .npy inputs and labels, e.g. test images
// to explain.
#include <fmt/format.h>

#include "command.h"
#include "common.h"
#include "nn/npy.h"
#include "nn/output_guard.h"

namespace integrad::cli {
namespace {

struct DatasetArgs {
  DataOptions data;
  std::string split = "test", inputs_out, labels_out;
};

void run(const DatasetArgs& a) {
  if (a.data.data.empty()) throw std::invalid_argument("give --data NAME");
  nn::check_outputs({{"-o", a.inputs_out}, {"--labels-out", a.labels_out}}, {});
  const nn::Dataset<float> ds = load_data<float>(a.data, a.split == "train");
  nn::npy_write(a.inputs_out, ds.inputs);
  fmt::print(status_stream(a.inputs_out), "wrote {} {}\n", a.inputs_out, ds.inputs.shape().str());
  if (!a.labels_out.empty()) {
    nn::npy_write_labels(a.labels_out, ds.labels, ad::Shape{ds.size()});
    fmt::print(status_stream(a.labels_out), "wrote {} [{}]\n", a.labels_out, ds.size());
  }
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<DatasetArgs>();
  a->data.add_to(cmd, false);
  cmd.add_option("--split", a->split, "train | test")->default_val("test")->check(CLI::IsMember({"train", "test"}));
  cmd.add_option("-o,--output", a->inputs_out, "Inputs .npy")->required();
  cmd.add_option("--labels-out", a->labels_out, "Labels .npy");
  cmd.callback([a] { run(*a); });
}

const bool registered = register_command({"dataset", "Write examples of a named data set as .npy (inputs and labels)", setup});

}  // namespace
}  // namespace integrad::cli
