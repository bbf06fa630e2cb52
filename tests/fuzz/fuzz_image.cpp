#include <stdexcept>
#include <string_view>

#include "nn/image_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int64_t channels : {1, 3}) {
    try {
      (void)integrad::nn::image_parse<float>(bytes, channels, "fuzz.png");
    } catch (const std::exception&) {
    }
  }
  return 0;
}
