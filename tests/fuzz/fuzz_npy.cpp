#include <stdexcept>

#include "fuzz_common.h"
#include "nn/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto a = integrad::nn::npy_parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.npy");
    (void)integrad::nn::npy_to_tensor<double>(a, "fuzz.npy");
  } catch (const std::exception&) {
  }
  return 0;
}
