// PNG files from RGB images (stb_image_write), written atomically.
#pragma once

#include <string>

#include "attribution/drawing/heatmap.h"

namespace integrad::cli {

void write_png(const std::string& path, const attr::Image& image);
// The PNG bytes, e.g. for a data: URI in an HTML report.
std::string png_bytes(const attr::Image& image);

}  // namespace integrad::cli
