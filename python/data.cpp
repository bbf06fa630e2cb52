// integrad.dataset / integrad.datasets: the named data sets of the CLI's --data (nn/named_datasets.h),
// with their ground-truth masks where a set knows them; and integrad.synthetic_patches, the image set
// whose ground truth is known — class k puts a bright 4x4 patch at a place of its own.
#include <pybind11/stl.h>

#include <optional>

#include "arrays.h"
#include "model.h"
#include "nn/fashion_mnist.h"
#include "nn/model_file.h"
#include "nn/named_datasets.h"
#include "nn/synthetic.h"

namespace integrad::py_bind {

void bind_data(py::module_& m) {
  m.def(
      "datasets",
      [] {
        py::list out;
        for (const nn::NamedDataset& s : nn::named_datasets()) {
          py::dict d;
          d["name"] = s.name;
          d["summary"] = s.summary;
          d["input_shape"] = s.input_shape.str();
          d["has_masks"] = bool(s.masks);
          d["has_shortcut_masks"] = bool(s.shortcut_masks);
          d["input_dtype"] = nn::input_dtype_name(s.input_dtype);
          d["feature_names"] = s.feature_names;
          d["regression"] = s.regression;
          out.append(d);
        }
        return out;
      },
      "The named data sets (the CLI's --data): name, summary, input_shape, has_masks, has_shortcut_masks.");
  m.def(
      "dataset",
      [](const std::string& name, const std::string& split, std::optional<int64_t> limit, const std::string& data_dir, const std::string& dtype) {
        if (split != "train" && split != "test" && split != "all") throw py::value_error("split= must be 'train', 'test' or 'all'");
        if (limit && *limit < 0) throw py::value_error("limit= must be at least 0");
        const nn::NamedDataset& set = nn::named_dataset(name);
        const nn::DataRequest request{split == "train", limit.value_or(-1), data_dir, split == "all"};
        auto make = [&](auto tag) {
          using T = decltype(tag);
          nn::Dataset<T> d;
          std::optional<ad::Tensor<float>> masks, shortcut;
          {
            py::gil_scoped_release release;
            d = nn::load_named<T>(set, request);
            // Masks are float32 whatever the dtype, made from the float32 set as the CLI's
            // --masks-out and --shortcut-masks-out make them.
            std::optional<nn::Dataset<float>> as_float;
            if constexpr (!std::is_same_v<T, float>) {
              if (set.masks || set.shortcut_masks) as_float = nn::load_named<float>(set, request);
            }
            const nn::Dataset<float>* f = nullptr;
            if constexpr (std::is_same_v<T, float>) f = &d;
            else if (as_float) f = &*as_float;
            if (set.masks) masks = set.masks(*f);
            if (set.shortcut_masks) shortcut = set.shortcut_masks(*f);
          }
          py::object m = masks ? py::object(to_numpy(std::move(*masks))) : py::none();
          py::object s = shortcut ? py::object(to_numpy(std::move(*shortcut))) : py::none();
          // A regression's targets come back as float64 values, a classification's as int64 labels.
          py::object y = d.is_regression() ? py::object(to_numpy(ad::Tensor<double>(ad::Shape{d.size()}, d.targets))) : py::object(to_numpy(d.labels));
          return py::make_tuple(to_numpy(std::move(d.inputs)), y, m, s);
        };
        return is_float64(dtype) ? make(double{}) : make(float{});
      },
      py::arg("name"), py::arg("split") = "test", py::arg("limit") = py::none(), py::arg("data_dir") = nn::kFashionMnistDir,
      py::arg("dtype") = "float32",
      "(x, y, masks, shortcut_masks): a named data set as the CLI's --data reads it; masks (the inputs' shape, 1 where the evidence for "
      "the label lies) and shortcut_masks (1 on the shortcut: synthetic-watermark's watermark, synthetic-loan's zip code) or None when the "
      "set has none. integrad.dataset wraps it in a DataSet.");
  m.def(
      "synthetic_patches",
      [](int64_t n, uint64_t seed, const std::string& dtype) {
        if (n < 1) throw py::value_error("n must be at least 1");
        auto make = [&](auto tag) {
          using T = decltype(tag);
          nn::Dataset<T> d;
          {
            py::gil_scoped_release release;
            d = nn::synthetic_patches<T>(n, seed);
          }
          return py::make_tuple(to_numpy(std::move(d.inputs)), to_numpy(d.labels));
        };
        return is_float64(dtype) ? make(double{}) : make(float{});
      },
      py::arg("n"), py::arg("seed") = 0, py::arg("dtype") = "float32",
      "(x [n, 1, 28, 28], y [n]): noise in [0, 0.3] with a bright 4x4 patch whose place is the class (0..9).");
  m.def(
      "synthetic_patch_mask",
      [](int64_t label) {
        if (label < 0 || label > 9) throw py::value_error("label must be a class of the synthetic patches, 0 to 9");
        return to_numpy(nn::synthetic_patches_mask(label));
      }, py::arg("label"),
      "[1, 28, 28]: 1 on the patch of class `label`, 0 elsewhere — where a good attribution lights up.");
}

}  // namespace integrad::py_bind
