// The small real data sets that scikit-learn bundles, read from the copies Debian's python3-sklearn
// installs (/usr/lib/python3/dist-packages/sklearn/datasets/data): breast-cancer, wine, iris,
// digits (classifications) and diabetes (a regression, raw values). Values as in the files, no
// scaling; feature names as scikit-learn's, spaces written as underscores. docs/datasets.md.
#pragma once

#include <string>
#include <vector>

#include "autodiff/shape.h"
#include "nn/dataset.h"

namespace integrad::nn {

// Where the files are: $INTEGRAD_SKLEARN_DATA if set, else Debian's python3-sklearn directory.
std::string sklearn_data_dir();

struct SklearnSet {
  std::string name;       // as --data spells it
  std::string file;       // in sklearn_data_dir()
  ad::Shape input_shape;  // one example's
  bool regression = false;
  int header_lines = 1;  // "N,F,class names..." (breast-cancer, wine, iris); digits and diabetes have none
  std::vector<std::string> feature_names;  // empty for digits (pixels)
  std::vector<std::string> class_names;
};

const std::vector<SklearnSet>& sklearn_sets();

// The fixed split (docs/datasets.md): an example whose 0-based index in the file is a multiple of 5
// is a test example (20%), the others are training examples. `split` is "train", "test" or "all"
// (every example, in the file's order). At most `limit` of them (-1: all).
template <ad::Scalar T>
Dataset<T> load_sklearn(const SklearnSet& set, const std::string& split, int64_t limit);

}  // namespace integrad::nn
