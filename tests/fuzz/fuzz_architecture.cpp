#include <stdexcept>

#include "nn/architecture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto model = integrad::nn::parse_architecture<float>(text, integrad::ad::Shape{1, 8, 8}, integrad::nn::InputDtype::float32, 0);
    (void)model.predict(integrad::ad::Tensor<float>(integrad::ad::Shape{1, 1, 8, 8}));
  } catch (const std::exception&) {
  }
  return 0;
}
