#include <stdexcept>

#include "fuzz_common.h"
#include "nn/checkpoint.h"
#include "nn/model_file.h"
#include "nn/printable.h"
#include "nn/safetensors.h"
#include "nn/train.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = integrad::nn::safetensors_parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    for (const auto& [name, t] : f.tensors) {
      (void)integrad::nn::printable(name);
      (void)integrad::nn::safetensors_tensor<float>(f, name, "fuzz.safetensors");
    }
    // The metadata that is JSON itself: a model's training curve, a checkpoint's settings.
    for (const auto& [key, value] : f.metadata) {
      (void)integrad::nn::printable(value);
      if (key == "training_curve") {
        try {
          (void)integrad::nn::parse_training_curve(value);
        } catch (const std::exception&) {
        }
      }
      if (key == "settings") (void)integrad::nn::changed_settings(value, R"({"lr":0.001})");
    }
  } catch (const std::exception&) {
  }
  // The whole model and checkpoint loaders too: architecture metadata, shapes against tensors.
  const std::string path = fuzz_file(data, size);
  try {
    (void)integrad::nn::load_model<float>(path);
  } catch (const std::exception&) {
  }
  try {
    (void)integrad::nn::load_checkpoint<float>(path);
  } catch (const std::exception&) {
  }
  return 0;
}
