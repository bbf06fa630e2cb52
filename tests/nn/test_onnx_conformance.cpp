// ONNX's own backend node tests (Debian's libonnx-testdata: model.onnx, test_data_set_*/input_0.pb
// and output_0.pb per test) run through the reader, for every test whose ops integrad reads. A
// test integrad refuses is counted with the reason; one it loads must give ONNX's outputs. Skipped
// (with a message) where the package is absent. docs/onnx.md carries the table.
#include <doctest/doctest.h>

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <map>
#include <string>

#include "nn/onnx/read.h"

using namespace integrad;

namespace {

const char* kNodeTests = "/usr/share/libonnx-testdata/data/node";

// The reason a refusal gives, shortened to its kind.
std::string reason_of(const std::string& what) {
  for (const char* k : {"is an operation integrad does not read", "inputs besides its initializers", "opset", "depends on the batch", "the batch",
                        "has attribute", "needs", "does not depend on the input", "element type", "data type"})
    if (what.find(k) != std::string::npos) return k;
  return what.substr(what.find(": ") + 2, 100);
}

}  // namespace

TEST_CASE("ONNX backend node tests (libonnx-testdata)") {
  if (!std::filesystem::is_directory(kNodeTests)) {
    MESSAGE("libonnx-testdata is not installed: skipped");
    return;
  }
  std::map<std::string, int> refused;
  int passed = 0, mismatched = 0, total = 0;
  std::vector<std::string> passed_names, mismatched_names, details;
  for (const auto& entry : std::filesystem::directory_iterator(kNodeTests)) {
    const std::string name = entry.path().filename().string(), model_path = (entry.path() / "model.onnx").string();
    const auto set = entry.path() / "test_data_set_0";
    if (!std::filesystem::exists(model_path) || !std::filesystem::exists(set / "input_0.pb") || !std::filesystem::exists(set / "output_0.pb")) continue;
    ++total;
    try {
      std::vector<std::string> held;  // inputs after the first, held as constants
      for (int k = 1; std::filesystem::exists(set / fmt::format("input_{}.pb", k)); ++k) held.push_back((set / fmt::format("input_{}.pb", k)).string());
      const nn::Model<double> model = nn::load_onnx<double>(model_path, held);
      const ad::Tensor<double> x = nn::read_onnx_tensor((set / "input_0.pb").string());
      const ad::Tensor<double> want = nn::read_onnx_tensor((set / "output_0.pb").string());
      const ad::Tensor<double> got = model.predict(x);
      bool same = got.numel() == want.numel();
      for (int64_t i = 0; same && i < got.numel(); ++i)
        same = std::abs(got[i] - want[i]) <= 1e-5 + 1e-4 * std::abs(want[i]) || (std::isnan(got[i]) && std::isnan(want[i]));
      if (same) ++passed, passed_names.push_back(name);
      else ++mismatched, mismatched_names.push_back(name);
    } catch (const std::exception& e) {
      ++refused[reason_of(e.what())];
      if (reason_of(e.what()) != "is an operation integrad does not read" && reason_of(e.what()) != "opset") details.push_back(name + ": " + reason_of(e.what()));
    }
  }
  std::string summary = fmt::format("{} node tests: {} passed, {} gave other numbers", total, passed, mismatched);
  for (const auto& [why, n] : refused) summary += fmt::format("\n  refused ({}): {}", why, n);
  summary += "\n  passed: " + fmt::format("{}", fmt::join(passed_names, " "));
  summary += "\n  other numbers: " + fmt::format("{}", fmt::join(mismatched_names, " "));
  summary += "\n  refused, by test:\n    " + fmt::format("{}", fmt::join(details, "\n    "));
  MESSAGE(summary);
  // What docs/onnx.md reports: every test the reader loads gives ONNX's numbers, and at least the
  // 74 that passed when the table was written still pass.
  CHECK(mismatched == 0);
  CHECK(passed >= 74);
}
