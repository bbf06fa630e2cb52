// A path in the tests' scratch directory, which is created on first use.
#pragma once

#include <filesystem>
#include <string>

inline std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "integrad_tests";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}
