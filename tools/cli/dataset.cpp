// integrad dataset: write (part of) a named data set as .npy inputs and labels, e.g. test images
// to explain, and for the synthetic sets the ground-truth masks that localisation metrics need.
#include <fmt/format.h>

#include "command.h"
#include "common.h"
#include "nn/csv.h"
#include "nn/named_datasets.h"
#include "nn/npy.h"
#include "nn/output_guard.h"
#include "nn/printable.h"

namespace integrad::cli {
namespace {

struct DatasetArgs {
  DataOptions data;
  std::string split = "test", inputs_out, labels_out, masks_out, shortcut_masks_out;
};

void run(const DatasetArgs& a) {
  if (a.data.data.empty()) throw std::invalid_argument("give --data NAME");
  nn::check_outputs({{"-o", a.inputs_out}, {"--labels-out", a.labels_out}, {"--masks-out", a.masks_out}, {"--shortcut-masks-out", a.shortcut_masks_out}}, {});
  const nn::NamedDataset& set = nn::named_dataset(a.data.data);
  if (!a.masks_out.empty() && !set.masks) throw std::invalid_argument(fmt::format("--masks-out: {} has no ground-truth masks", a.data.data));
  if (!a.shortcut_masks_out.empty() && !set.shortcut_masks)
    throw std::invalid_argument(fmt::format("--shortcut-masks-out: {} has no shortcut (synthetic-watermark and synthetic-loan have)", a.data.data));
  DataOptions data = a.data;
  data.all = a.split == "all";
  const nn::Dataset<float> ds = load_data<float>(data, a.split == "train");
  if (nn::is_csv_path(a.inputs_out)) {
    // Tabular sets as .csv: the features under their names, then the label as a column "label".
    if (ds.inputs.rank() != 2 || ds.feature_names.size() != size_t(ds.inputs.size(1)))
      throw std::invalid_argument(fmt::format("-o {}: only a tabular set (named features) can be written as .csv; {} has examples of shape {}", a.inputs_out,
                                              a.data.data, set.input_shape.str()));
    std::vector<std::string> names = ds.feature_names;
    names.push_back("label");
    const int64_t f = ds.inputs.size(1);
    std::vector<float> rows(size_t(ds.size() * (f + 1)));
    for (int64_t i = 0; i < ds.size(); ++i) {
      std::copy(ds.inputs.data() + i * f, ds.inputs.data() + (i + 1) * f, rows.begin() + i * (f + 1));
      rows[size_t(i * (f + 1) + f)] = ds.is_regression() ? float(ds.targets[size_t(i)]) : float(ds.labels[size_t(i)]);
    }
    nn::csv_write(a.inputs_out, names, rows.data(), ds.size());
  } else {
    nn::npy_write(a.inputs_out, ds.inputs);
  }
  fmt::print(status_stream(a.inputs_out), "wrote {} {}\n", nn::printable(a.inputs_out), ds.inputs.shape().str());
  if (!a.labels_out.empty()) {
    // A regression's targets as float64 values (interfaces.md), class labels as int64.
    if (ds.is_regression()) nn::npy_write(a.labels_out, ad::Tensor<double>(ad::Shape{ds.size()}, ds.targets));
    else nn::npy_write_labels(a.labels_out, ds.labels, ad::Shape{ds.size()});
    fmt::print(status_stream(a.labels_out), "wrote {} [{}]\n", nn::printable(a.labels_out), ds.size());
  }
  if (!a.masks_out.empty()) {
    const ad::Tensor<float> masks = set.masks(ds);
    nn::npy_write(a.masks_out, masks);
    fmt::print(status_stream(a.masks_out), "wrote {} {}\n", nn::printable(a.masks_out), masks.shape().str());
  }
  if (!a.shortcut_masks_out.empty()) {
    const ad::Tensor<float> masks = set.shortcut_masks(ds);
    nn::npy_write(a.shortcut_masks_out, masks);
    fmt::print(status_stream(a.shortcut_masks_out), "wrote {} {}\n", a.shortcut_masks_out, masks.shape().str());
  }
}

void setup(CLI::App& cmd) {
  auto a = std::make_shared<DatasetArgs>();
  a->data.add_to(cmd, false);
  cmd.add_option("--split", a->split, "train | test | all (every example in the file's order; the sets read from files)")
      ->default_val("test")
      ->check(CLI::IsMember({"train", "test", "all"}));
  cmd.add_option("-o,--output", a->inputs_out, "Inputs .npy, or .csv for a tabular set (its features, then a column 'label')")->required();
  cmd.add_option("--labels-out", a->labels_out, "Labels .npy");
  cmd.add_option("--masks-out", a->masks_out, "Ground-truth masks .npy (the inputs' shape, 1 where the evidence for the label lies; synthetic sets)");
  cmd.add_option("--shortcut-masks-out", a->shortcut_masks_out,
                 "The shortcut's masks .npy (synthetic-watermark: the watermark; synthetic-loan: zip_code, the proxy), as --masks-out");
  cmd.callback([a] { run(*a); });
}

const bool registered = register_command({"dataset", "Write examples of a named data set as .npy (inputs and labels)", setup});

}  // namespace
}  // namespace integrad::cli
