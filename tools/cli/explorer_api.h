// The explorer's API, HTTP aside: what the page asks (JSON) and what it gets (JSON). Every request
// names models and examples by index into what `integrad serve` loaded at start — never a path —
// and every field is checked, a bad one refused with a message naming it (BadRequest: HTTP 400).
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "explorer_jobs.h"
#include "explorer_model.h"

namespace integrad::cli::explorer {

struct BadRequest : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The examples the page offers: a named set's test split or an --inputs file.
struct Examples {
  std::string source;                  // "synthetic-patches (test)" or the file's name
  ad::Tensor<float> inputs;            // [N, ...]
  std::vector<int64_t> labels;         // empty when the file has none
  std::vector<std::string> class_names, feature_names;
  ad::Tensor<float> mean;              // [1, ...]: the training mean (a named set's train split, else the inputs')
};

struct Session {
  std::vector<LoadedModel> models;
  Examples data;
  std::vector<std::vector<int64_t>> predicted;  // per model, per example
};

// Loads the models and the examples, checks the models agree on the input, predicts every example.
Session open_session(const std::vector<std::string>& model_paths, const std::string& data_name, const std::string& inputs_path, int64_t limit);

nlohmann::json info(const Session& s);
// The example grid: labels, predictions and, for images, thumbnails (uint8, base64).
nlohmann::json examples(const Session& s);
// One example's values, whole.
nlohmann::json example(const Session& s, int64_t i);

// A computing request (op: predict, explain, convergence, axioms), run on a worker thread.
nlohmann::json run(const Session& s, const nlohmann::json& request, Job& job);
// Checks a request before it is queued, so a bad one is refused at once.
void check(const Session& s, const nlohmann::json& request);

}  // namespace integrad::cli::explorer
