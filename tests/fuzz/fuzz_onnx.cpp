// The ONNX reader (nn/onnx/): any bytes give a model or a clear error, never a crash, hang or huge
// allocation; a model that loads also runs on one example of each of its inputs' shapes.
#include <span>
#include <stdexcept>
#include <vector>

#include "fuzz_common.h"
#include "nn/onnx/read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz_file(data, size);
  try {
    const auto model = integrad::nn::load_onnx<float>(path);
    std::vector<integrad::ad::Tensor<float>> xs;
    int64_t total = 0;
    for (size_t k = 0; k < model.input_count(); ++k) {
      total += model.input_shape_of(k).numel();
      if (total > 4096) return 0;
      xs.emplace_back(integrad::nn::with_batch(1, model.input_shape_of(k)));
    }
    (void)model.predict(std::span<const integrad::ad::Tensor<float>>(xs));
  } catch (const std::exception&) {
  }
  return 0;
}
