// Shared by the harnesses: readers take paths, so the input goes to a file first.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

inline std::string fuzz_file(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/integrad_fuzz_" + std::to_string(::getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}
