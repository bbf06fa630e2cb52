#include "several_inputs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>

#include "nn/npy.h"
#include "nn/npz.h"
#include "nn/printable.h"
#include "target_baseline.h"

namespace integrad::cli {

template <ad::Scalar T>
std::string input_list(const nn::Model<T>& model) {
  std::vector<std::string> names;
  for (const nn::ModelInput& in : model.named_inputs) names.push_back(in.name);
  return names.empty() ? std::string("input") : fmt::format("{}", fmt::join(names, ", "));
}

template <ad::Scalar T>
bool uses_named_inputs(const nn::Model<T>& model, const std::string& input_path) {
  return model.input_count() > 1 || nn::is_npz_path(input_path);
}

template <ad::Scalar T>
attr::NamedTensors<T> load_named_inputs(const std::string& path, const nn::Model<T>& model) {
  if (!nn::is_npz_path(path))
    throw std::invalid_argument(fmt::format("{}: the model reads several inputs ({}); give them as an .npz of arrays with those names "
                                            "(np.savez(path, {}))",
                                            nn::printable(path), input_list(model), input_list(model).find(',') == std::string::npos ? "input=x" : "name=array, ..."));
  attr::NamedTensors<T> out;
  for (const auto& [name, array] : nn::npz_read(path)) out.emplace_back(name, nn::npy_to_tensor<T>(array, fmt::format("{} ({})", path, name)));
  if (model.input_count() == 1) {
    if (out.size() != 1)
      throw std::invalid_argument(fmt::format("{} holds {} arrays; the model reads one input", nn::printable(path), out.size()));
    out[0].first = model.named_inputs.empty() ? std::string("input") : model.named_inputs[0].name;
  }
  attr::inputs_in_order(model, out, nn::printable(path));  // names and shapes checked here, the file named
  return out;
}

template <ad::Scalar T>
std::map<std::string, attr::Baseline<T>> parse_named_baselines(const std::string& text, const nn::Model<T>& model, const std::vector<size_t>& explained) {
  const auto name_of = [&](size_t k) { return model.named_inputs.empty() ? std::string("input") : model.named_inputs[k].name; };
  std::map<std::string, attr::Baseline<T>> out;
  if (nn::is_npz_path(text)) {
    for (const auto& [name, array] : nn::npz_read(text)) {
      bool known = false;
      for (size_t k : explained) known = known || name_of(k) == name;
      if (!known && explained.size() == 1 && model.input_count() == 1) known = true;  // one input: its one array, whatever its name
      if (!known) throw std::invalid_argument(fmt::format("--baseline {}: array '{}' is not an explained input (explained: {})", nn::printable(text), name,
                                                          [&] {
                                                            std::vector<std::string> n;
                                                            for (size_t k : explained) n.push_back(name_of(k));
                                                            return fmt::format("{}", fmt::join(n, ", "));
                                                          }()));
      out[model.input_count() == 1 ? name_of(0) : name] = attr::Baseline<T>::of(nn::npy_to_tensor<T>(array, fmt::format("{} ({})", text, name)));
    }
    return out;
  }
  const attr::Baseline<T> b = parse_baseline<T>(text);
  if (b.kind == attr::Baseline<T>::Kind::tensor && explained.size() != 1)
    throw std::invalid_argument(fmt::format("--baseline {}: one array for {} explained inputs; give an .npz with one array per input", nn::printable(text),
                                            explained.size()));
  for (size_t k : explained) out[name_of(k)] = b;
  return out;
}

template <ad::Scalar T>
void refuse_several_inputs(const nn::Model<T>& model, const std::string& path, const std::string& command) {
  if (model.input_count() > 1)
    throw std::invalid_argument(fmt::format("{} reads several inputs ({}); {} runs models of one input (explain and predict take an .npz of named inputs)",
                                            nn::printable(path), input_list(model), command));
}

#define INTEGRAD_INSTANTIATE(T)                                                                                            \
  template void refuse_several_inputs<T>(const nn::Model<T>&, const std::string&, const std::string&);                     \
  template std::string input_list<T>(const nn::Model<T>&);                                                                 \
  template bool uses_named_inputs<T>(const nn::Model<T>&, const std::string&);                                             \
  template attr::NamedTensors<T> load_named_inputs<T>(const std::string&, const nn::Model<T>&);                            \
  template std::map<std::string, attr::Baseline<T>> parse_named_baselines<T>(const std::string&, const nn::Model<T>&, \
                                                                             const std::vector<size_t>&);
INTEGRAD_INSTANTIATE(float)
INTEGRAD_INSTANTIATE(double)
#undef INTEGRAD_INSTANTIATE

}  // namespace integrad::cli
