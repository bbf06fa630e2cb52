#include <stdexcept>

#include "fuzz_common.h"
#include "nn/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const auto& [name, a] : integrad::nn::npz_parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npz"))
      (void)integrad::nn::npy_to_tensor<double>(a, name);
  } catch (const std::exception&) {
  }
  return 0;
}
