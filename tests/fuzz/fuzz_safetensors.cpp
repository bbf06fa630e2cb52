#include <stdexcept>

#include "fuzz_common.h"
#include "nn/model_file.h"
#include "nn/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = integrad::nn::safetensors_parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    for (const auto& [name, t] : f.tensors) (void)integrad::nn::safetensors_tensor<float>(f, name, "fuzz.safetensors");
  } catch (const std::exception&) {
  }
  // The whole model loader too: architecture metadata, shapes against tensors.
  try {
    (void)integrad::nn::load_model<float>(fuzz_file(data, size));
  } catch (const std::exception&) {
  }
  return 0;
}
