#include "target_baseline.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/npy.h"

namespace integrad::cli {

template <ad::Scalar T>
attr::Target<T> parse_target(const std::string& text, int64_t n) {
  if (text == "predicted") return attr::Target<T>::predicted();
  if (text.ends_with(".npy")) {
    std::vector<int64_t> t = nn::npy_read_labels(text);
    if (static_cast<int64_t>(t.size()) != n) throw std::invalid_argument(fmt::format("{} holds {} targets for {} inputs", text, t.size(), n));
    return attr::Target<T>::each(std::move(t));
  }
  size_t used = 0;
  int64_t k = -1;
  try {
    k = std::stoll(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || k < 0) throw std::invalid_argument("--target must be predicted, a class index or a .npy file; got '" + text + "'");
  return attr::Target<T>::of(k);
}

template <ad::Scalar T>
attr::Baseline<T> parse_baseline(const std::string& text) {
  if (text == "zero") return attr::Baseline<T>::zero();
  if (text.ends_with(".npy")) return attr::Baseline<T>::of(nn::npy_read_tensor<T>(text));
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !std::isfinite(v)) throw std::invalid_argument("--baseline must be zero, a number or a .npy file; got '" + text + "'");
  // Finite as a double may still overflow the precision it runs in (1e308 is inf in float32).
  if (!std::isfinite(static_cast<T>(v)))
    throw std::invalid_argument(fmt::format("--baseline {} is beyond the range of {} (largest {:g})", text, sizeof(T) == 8 ? "float64" : "float32",
                                            double(std::numeric_limits<T>::max())));
  return attr::Baseline<T>::constant(static_cast<T>(v));
}

template attr::Target<float> parse_target<float>(const std::string&, int64_t);
template attr::Target<double> parse_target<double>(const std::string&, int64_t);
template attr::Baseline<float> parse_baseline<float>(const std::string&);
template attr::Baseline<double> parse_baseline<double>(const std::string&);

}  // namespace integrad::cli
