#include "nn/checkpoint.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "nn/model_file.h"
#include "nn/printable.h"
#include "nn/safetensors.h"

namespace integrad::nn {

namespace {

const std::string model_prefix = "model.", optimizer_prefix = "optimizer.";

int64_t count_from(const std::map<std::string, std::string>& metadata, const std::string& key, const std::string& path) {
  auto it = metadata.find(key);
  if (it == metadata.end()) throw std::runtime_error(fmt::format("{}: not a training checkpoint (__metadata__ has no '{}')", path, key));
  size_t used = 0;
  int64_t n = -1;
  try {
    n = std::stoll(it->second, &used);
  } catch (const std::exception&) {
  }
  if (n < 0 || used != it->second.size()) throw std::runtime_error(fmt::format("{}: metadata {} '{}' is not a count", printable(path), key, printable(it->second)));
  return n;
}

}  // namespace

std::string checkpoint_path(const std::string& model_path) {
  const std::string ext = ".safetensors";
  if (model_path.size() > ext.size() && model_path.ends_with(ext)) return model_path.substr(0, model_path.size() - ext.size()) + ".checkpoint" + ext;
  return model_path + ".checkpoint" + ext;
}

template <ad::Scalar T>
void save_checkpoint(const std::string& path, const Model<T>& model, const OptimizerState<T>& optimizer, const std::vector<EpochStats>& history,
                     const std::string& settings, const std::string& dtype) {
  std::map<std::string, std::string> metadata{{"epochs_done", std::to_string(history.size())},
                                              {"optimizer_steps", std::to_string(optimizer.steps)},
                                              {"training_curve", training_curve_json(history)},
                                              {"settings", settings}};
  auto tensors = model_tensors(model, metadata, model_prefix);
  for (const auto& [name, t] : optimizer.tensors) tensors.emplace_back(optimizer_prefix + name, &t);
  safetensors_write(path, tensors, metadata, dtype);
}

template <ad::Scalar T>
Checkpoint<T> load_checkpoint(const std::string& path) {
  const SafetensorsFile file = safetensors_read(path);
  Checkpoint<T> c;
  c.resume.epochs_done = count_from(file.metadata, "epochs_done", path);
  c.resume.optimizer.steps = count_from(file.metadata, "optimizer_steps", path);
  if (!file.metadata.count("settings") || !file.metadata.count("training_curve"))
    throw std::runtime_error(path + ": not a training checkpoint (__metadata__ needs 'settings' and 'training_curve')");
  c.settings = file.metadata.at("settings");
  try {
    c.history = parse_training_curve(file.metadata.at("training_curve"));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(printable(path) + ": " + printable(e.what()));
  }
  if (int64_t(c.history.size()) != c.resume.epochs_done)
    throw std::runtime_error(fmt::format("{}: epochs_done is {} but the training curve has {} epochs", path, c.resume.epochs_done, c.history.size()));
  c.model = model_from<T>(file, path, model_prefix);
  for (const auto& [name, raw] : file.tensors) {
    if (name.starts_with(optimizer_prefix)) c.resume.optimizer.tensors.emplace(name.substr(optimizer_prefix.size()), safetensors_tensor<T>(file, name, path));
    else if (!name.starts_with(model_prefix)) throw std::runtime_error(fmt::format("{}: tensor '{}' is neither model.* nor optimizer.*", printable(path), printable(name)));
  }
  return c;
}

std::vector<std::string> changed_settings(const std::string& saved, const std::string& wanted) {
  // The saved settings are one flat object; anything nested is refused as it opens.
  struct Nested {};
  auto flat = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    using E = nlohmann::json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= 1) throw Nested{};
    return true;
  };
  nlohmann::json a;
  try {
    a = nlohmann::json::parse(saved, flat, false);
  } catch (const Nested&) {
    return {"settings: the checkpoint's are not a flat JSON object"};
  }
  const auto b = nlohmann::json::parse(wanted);
  if (!a.is_object()) return {"settings: the checkpoint's are not a JSON object"};
  std::vector<std::string> changes;
  for (const auto& [key, value] : b.items()) {
    const std::string before = a.contains(key) ? a.at(key).dump() : "(none)";
    if (before != value.dump()) changes.push_back(fmt::format("{}: {} → {}", key, before, value.dump()));
  }
  return changes;
}

template void save_checkpoint<float>(const std::string&, const Model<float>&, const OptimizerState<float>&, const std::vector<EpochStats>&,
                                     const std::string&, const std::string&);
template void save_checkpoint<double>(const std::string&, const Model<double>&, const OptimizerState<double>&, const std::vector<EpochStats>&,
                                      const std::string&, const std::string&);
template Checkpoint<float> load_checkpoint<float>(const std::string&);
template Checkpoint<double> load_checkpoint<double>(const std::string&);

}  // namespace integrad::nn
