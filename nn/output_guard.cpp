#include "nn/output_guard.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "nn/printable.h"

namespace integrad::nn {

namespace fs = std::filesystem;

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  const bool has_a = ::stat(a.c_str(), &sa) == 0, has_b = ::stat(b.c_str(), &sb) == 0;
  if (has_a && has_b) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  if (has_a != has_b) return false;
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a), ea), cb = fs::weakly_canonical(fs::absolute(b), eb);
  return !ea && !eb && ca == cb;
}

void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const NamedPath& out = outputs[i];
    if (out.path.empty()) continue;
    for (const NamedPath& in : inputs)
      if (!in.path.empty() && same_file(out.path, in.path))
        throw std::invalid_argument(printable(out.option + " " + out.path) + " is the same file as " + printable(in.option + " " + in.path) +
                                    "; the input would be overwritten — write the output elsewhere");
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && same_file(out.path, outputs[j].path))
        throw std::invalid_argument(printable(out.option + " " + out.path) + " and " + printable(outputs[j].option + " " + outputs[j].path) +
                                    " are the same file; give each output its own");
  }
}

OutputLock::OutputLock(const std::string& output) {
  // Beside the file the output resolves to, so links to one file share one lock.
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(output), ec);
  if (ec) resolved = fs::absolute(output);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(resolved.string()));
  lock_path_ = (resolved.parent_path() / (".integrad-lock-" + std::string(hash))).string();
  for (int attempt = 0; attempt < 10; ++attempt) {
    fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(printable(output) + ": cannot create the lock file " + printable(lock_path_) + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK)
        throw std::runtime_error(printable(output) + ": another integrad process" + (n > 0 ? " (pid " + std::string(pid, static_cast<size_t>(n)) + ")" : "") +
                                 " is writing it; wait for it to finish or write elsewhere");
      throw std::runtime_error(printable(output) + ": cannot lock " + printable(lock_path_) + ": " + std::strerror(err));
    }
    // The holder before us may have removed the file between our open and our flock: then we hold
    // a lock on a file nobody else will open. Only a lock on the file now at lock_path_ counts.
    struct stat held, now;
    if (::fstat(fd_, &held) == 0 && ::stat(lock_path_.c_str(), &now) == 0 && held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
      const std::string pid = std::to_string(::getpid());
      if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      }
      return;
    }
    ::close(fd_);
    fd_ = -1;
  }
  throw std::runtime_error(printable(output) + ": cannot lock " + printable(lock_path_) + ": it keeps changing");
}

OutputLock::~OutputLock() {
  if (fd_ < 0) return;
  ::unlink(lock_path_.c_str());  // while still holding the lock: see the constructor's check
  ::close(fd_);
}

}  // namespace integrad::nn
