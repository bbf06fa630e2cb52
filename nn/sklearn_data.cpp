#include "nn/sklearn_data.h"

#include "nn/layer.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace integrad::nn {
namespace {

constexpr size_t kMaxFileBytes = size_t(64) << 20;  // the largest (digits) inflates to 0.5 MB

// The whole file, gunzipped if it is gzip (zlib's gz reader passes plain files through).
std::string read_text(const std::string& path, const std::string& set) {
  if (!std::filesystem::exists(path))
    throw std::invalid_argument(fmt::format("--data {}: {} not found; it comes with Debian's python3-sklearn (apt-get install python3-sklearn), or set "
                                            "INTEGRAD_SKLEARN_DATA to a directory holding scikit-learn's datasets/data files",
                                            set, path));
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::string out;
  char buf[1 << 16];
  int got = 0;
  while ((got = gzread(f, buf, sizeof buf)) > 0) {
    out.append(buf, size_t(got));
    if (out.size() > kMaxFileBytes) {
      gzclose(f);
      throw std::runtime_error(fmt::format("{}: larger than {} bytes; not scikit-learn's file", path, kMaxFileBytes));
    }
  }
  const bool failed = got < 0;
  gzclose(f);
  if (failed) throw std::runtime_error(fmt::format("{}: corrupt gzip data", path));
  return out;
}

// Rows of numbers separated by commas or blanks (the diabetes files use spaces).
std::vector<std::vector<double>> parse_rows(const std::string& text, const std::string& path, size_t skip_lines) {
  std::vector<std::vector<double>> rows;
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (++line_no <= skip_lines || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::vector<double> row;
    const char* p = line.c_str();
    while (*p) {
      while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') ++p;
      if (!*p) break;
      char* q = nullptr;
      errno = 0;
      const double v = std::strtod(p, &q);
      if (q == p || !std::isfinite(v)) throw std::runtime_error(fmt::format("{}: line {}: not a number at '{}'", path, line_no, std::string(p).substr(0, 20)));
      row.push_back(v);
      p = q;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(fmt::format("{}{}", prefix, i));
  return v;
}

std::vector<SklearnSet> make_sets() {
  std::vector<SklearnSet> sets;
  sets.push_back({"breast-cancer", "breast_cancer.csv", {30}, false, 1,
                  {"mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness", "mean_compactness", "mean_concavity",
                   "mean_concave_points", "mean_symmetry", "mean_fractal_dimension", "radius_error", "texture_error", "perimeter_error", "area_error",
                   "smoothness_error", "compactness_error", "concavity_error", "concave_points_error", "symmetry_error", "fractal_dimension_error",
                   "worst_radius", "worst_texture", "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness", "worst_concavity",
                   "worst_concave_points", "worst_symmetry", "worst_fractal_dimension"},
                  {"malignant", "benign"}});
  sets.push_back({"wine", "wine_data.csv", {13}, false, 1,
                  {"alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids", "nonflavanoid_phenols",
                   "proanthocyanins", "color_intensity", "hue", "od280/od315_of_diluted_wines", "proline"},
                  {"class_0", "class_1", "class_2"}});
  sets.push_back({"iris", "iris.csv", {4}, false, 1, {"sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"},
                  {"setosa", "versicolor", "virginica"}});
  sets.push_back({"diabetes", "diabetes_data_raw.csv.gz", {10}, true, 0, {"age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"}, {}});
  sets.push_back({"digits", "digits.csv.gz", {1, 8, 8}, false, 0, {}, numbered("", 10)});
  return sets;
}

}  // namespace

std::string sklearn_data_dir() {
  if (const char* dir = std::getenv("INTEGRAD_SKLEARN_DATA"); dir && *dir) return dir;
  return "/usr/lib/python3/dist-packages/sklearn/datasets/data";
}

const std::vector<SklearnSet>& sklearn_sets() {
  static const std::vector<SklearnSet> sets = make_sets();
  return sets;
}

template <ad::Scalar T>
Dataset<T> load_sklearn(const SklearnSet& set, const std::string& split, int64_t limit) {
  if (split != "train" && split != "test" && split != "all") throw std::invalid_argument(fmt::format("split must be train, test or all; got '{}'", split));
  const std::string path = sklearn_data_dir() + "/" + set.file;
  const int64_t width = set.input_shape.numel();
  // breast-cancer, wine and iris start with a line "N,F,class names..."; digits and diabetes have
  // none, and diabetes keeps its targets in a file of their own.
  const auto rows = parse_rows(read_text(path, set.name), path, size_t(set.header_lines));
  std::vector<double> targets;
  if (set.regression) {
    const std::string target_path = sklearn_data_dir() + "/diabetes_target.csv.gz";
    for (const auto& r : parse_rows(read_text(target_path, set.name), target_path, 0)) {
      if (r.size() != 1) throw std::runtime_error(fmt::format("{}: expected one target a line", target_path));
      targets.push_back(r[0]);
    }
    if (targets.size() != rows.size())
      throw std::runtime_error(fmt::format("{} holds {} targets for {} examples in {}", target_path, targets.size(), rows.size(), path));
  }
  const int64_t columns = width + (set.regression ? 0 : 1);
  std::vector<int64_t> chosen;
  for (int64_t i = 0; i < int64_t(rows.size()); ++i) {
    if (int64_t(rows[size_t(i)].size()) != columns)
      throw std::runtime_error(fmt::format("{}: example {} has {} values; expected {}", path, i, rows[size_t(i)].size(), columns));
    const bool test = i % 5 == 0;
    if (split == "all" || (split == "test") == test) chosen.push_back(i);
  }
  if (limit >= 0 && int64_t(chosen.size()) > limit) chosen.resize(size_t(limit));
  Dataset<T> ds;
  ds.inputs = ad::Tensor<T>(with_batch(int64_t(chosen.size()), set.input_shape));
  for (size_t k = 0; k < chosen.size(); ++k) {
    const auto& r = rows[size_t(chosen[k])];
    for (int64_t j = 0; j < width; ++j) ds.inputs[int64_t(k) * width + j] = T(r[size_t(j)]);
    if (set.regression) {
      ds.targets.push_back(targets[size_t(chosen[k])]);
    } else {
      const double label = r[size_t(width)];
      if (label < 0 || label >= double(set.class_names.size()) || label != std::floor(label))
        throw std::runtime_error(fmt::format("{}: example {} has label {}", path, chosen[k], label));
      ds.labels.push_back(int64_t(label));
    }
  }
  ds.num_classes = set.regression ? 0 : int64_t(set.class_names.size());
  ds.class_names = set.class_names;
  ds.feature_names = set.feature_names;
  return ds;
}

template Dataset<float> load_sklearn<float>(const SklearnSet&, const std::string&, int64_t);
template Dataset<double> load_sklearn<double>(const SklearnSet&, const std::string&, int64_t);

}  // namespace integrad::nn
