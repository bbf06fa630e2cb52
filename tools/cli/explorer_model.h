// What the explorer (integrad serve) knows of a model and of the method registry, in one place:
// the HTTP side never touches nn:: or attr:: directly, so a new kind of model (the graph models,
// layers chosen by name) or a new method changes this adapter and not the server or the page.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "attribution/attribution.h"
#include "nn/model.h"

namespace integrad::cli::explorer {

// How the page shows and edits an example.
enum class InputKind { image, tabular, tokens, other };

struct LoadedModel {
  std::string label;  // the file's name without its directory: what the page shows
  nn::Model<float> model;
  InputKind kind = InputKind::other;
  int64_t num_classes = 0;
};

LoadedModel load_model(const std::string& path);
// kind, input shape, classes, feature names, and `layers`: what a layer option (layer IG,
// Grad-CAM) may name — every node by its name (a module path in a graph model, the index in a
// chain) and every module holding several nodes (PyTorch's `layer1`), each with its output shape.
nlohmann::json describe(const LoadedModel& m);

// The names `layers` lists, in that order.
std::vector<std::string> layer_names(const LoadedModel& m);

// Every registered method with its options as the form needs them (kind, default, range, choices,
// help), straight from attr::registry: a method registered tomorrow shows up in the page as is.
nlohmann::json methods_json();

// Softmax probabilities of one example [1, ...].
std::vector<double> probabilities(const LoadedModel& m, const ad::Tensor<float>& x);

// Thrown from a progress callback when the user cancels a request.
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "cancelled"; }
};

// One method on one example, as `integrad explain --method NAME --OPTION VALUE ... --target T
// --baseline B` computes it (attr::explain with the same options): the same numbers.
struct ExplainRequest {
  std::string method;
  std::map<std::string, std::string> options;  // as text, checked by attr::parse_options
  attr::Target<float> target;
  attr::Baseline<float> baseline;
};
attr::Attribution<float> explain(const LoadedModel& m, const ad::Tensor<float>& x, const ExplainRequest& r, const std::function<void(double)>& progress);

// Deletion and insertion curves (20 steps) of a map of the inputs' shape.
nlohmann::json curves(const LoadedModel& m, const ad::Tensor<float>& x, const ad::Tensor<float>& map, const attr::Baseline<float>& baseline, int64_t cls);

// |delta| of IG for each quadrature rule at 2, 4, ..., max_steps steps.
nlohmann::json ig_convergence(const LoadedModel& m, const ad::Tensor<float>& x, const ExplainRequest& r, int max_steps,
                              const std::function<void(double)>& progress);

// The axiom checks of the chosen methods (IG: the row of its quadrature rule) on this example.
nlohmann::json axioms(const LoadedModel& m, const ad::Tensor<float>& x, const std::vector<ExplainRequest>& methods);

}  // namespace integrad::cli::explorer
