// A scratch .npy for the report's own use: the metric registry takes ground-truth masks as a file
// path, so the report writes the masks to a temporary file, passes its path, and removes it. It is
// not an output of the command, so it is written at once, outside the command's OutputSet.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "nn/atomic_file.h"
#include "nn/npy.h"

namespace integrad::cli {

class ScratchNpy {
 public:
  ScratchNpy(const std::string& what, const ad::Tensor<float>& t)
      : path_((std::filesystem::temp_directory_path() / fmt::format("integrad-{}-{}.npy", what, ::getpid())).string()) {
    const nn::OutputSet::Suspended scratch;
    nn::npy_write(path_, t);
  }
  ~ScratchNpy() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  ScratchNpy(const ScratchNpy&) = delete;
  ScratchNpy& operator=(const ScratchNpy&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace integrad::cli
