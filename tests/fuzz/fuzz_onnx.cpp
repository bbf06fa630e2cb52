// The ONNX reader (nn/onnx/): any bytes give a model or a clear error, never a crash, hang or huge
// allocation; a model that loads also runs on one example of its input shape.
#include <stdexcept>

#include "fuzz_common.h"
#include "nn/onnx/read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz_file(data, size);
  try {
    const auto model = integrad::nn::load_onnx<float>(path);
    if (model.input_shape.numel() <= 4096) (void)model.predict(integrad::ad::Tensor<float>(integrad::nn::with_batch(1, model.input_shape)));
  } catch (const std::exception&) {
  }
  return 0;
}
