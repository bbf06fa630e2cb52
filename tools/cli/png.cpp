#include "png.h"

#include <stb/stb_image_write.h>

#include <stdexcept>

#include "nn/atomic_file.h"

namespace integrad::cli {

std::string png_bytes(const attr::Image& image) {
  std::string out;
  auto append = [](void* context, void* data, int size) { static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size)); };
  if (!stbi_write_png_to_func(append, &out, image.width, image.height, 3, image.rgb.data(), image.width * 3))
    throw std::runtime_error("PNG encoding failed");
  return out;
}

void write_png(const std::string& path, const attr::Image& image) { nn::write_file_atomically(path, png_bytes(image)); }

}  // namespace integrad::cli
