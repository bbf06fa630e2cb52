#include <stdexcept>

#include "fuzz_common.h"
#include "nn/csv.h"

// The .csv reader on arbitrary bytes: a table or a clear error, never a crash; a table's labels
// and features are taken too.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto t = integrad::nn::csv_parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.csv");
    (void)integrad::nn::csv_features<float>(t, t.columns.empty() ? "" : t.columns.back());
    if (!t.columns.empty()) (void)integrad::nn::csv_labels(t, t.columns.front(), "fuzz.csv");
  } catch (const std::exception&) {
  }
  return 0;
}
