#include "nn/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "nn/printable.h"

namespace integrad::nn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(printable(path) + ": " + what + ": " + std::strerror(err));
}

// write(2) until done; returns 0 or the errno of the failure.
int write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<size_t>(n);
  }
  return 0;
}

// Devices, pipes and sockets take the bytes as they come: there is nothing to rename.
// Writes into an open descriptor and closes it.
void write_and_close(int fd, const std::string& path, std::string_view bytes, bool truncate) {
  if (truncate && ::ftruncate(fd, 0) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, "cannot truncate", err);
  }
  const int err = write_all(fd, bytes);
  if (err) {
    ::close(fd);
    fail(path, "write failed", err);
  }
  if (::close(fd) != 0) fail(path, "write failed", errno);
}

void write_directly(const std::string& path, std::string_view bytes, bool truncate) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(path, "cannot open for writing", errno);
  write_and_close(fd, path, bytes, truncate);
}

// The file a chain of symbolic links ends at, existing or not (a link to a file not yet written
// is written through, as `cp x link` does).
std::string follow_links(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    if (path.starts_with("/proc/")) return path;  // /dev/stdout -> /proc/self/fd/1 -> "pipe:[...]": the kernel's, not a path
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    std::error_code ec;
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) fail(path, "cannot read the symbolic link", ec.value());
    path = target.is_absolute() ? target.string() : (fs::path(path).parent_path() / target).string();
  }
  fail(path, "cannot follow the symbolic link", ELOOP);
}

mode_t current_umask() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return mask;
}

}  // namespace

int remove_stale_temporaries(const std::string& directory) {
  int removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(directory.empty() ? "." : directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kTemporaryPrefix)) continue;
    // .integrad-tmp-<pid>-XXXXXX: the writer's pid, then mkstemp's suffix.
    const std::string rest = name.substr(kTemporaryPrefix.size());
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      std::error_code ignored;
      if (pid > 0 && fs::remove(it->path(), ignored)) ++removed;
    }
  }
  return removed;
}

namespace {
thread_local OutputSet* open_set = nullptr;
}

OutputSet::OutputSet() : previous_(open_set) { open_set = this; }

OutputSet::~OutputSet() {
  roll_back();
  open_set = previous_;
}

OutputSet* OutputSet::current() { return open_set; }

OutputSet::Suspended::Suspended() : saved_(open_set) { open_set = nullptr; }
OutputSet::Suspended::~Suspended() { open_set = saved_; }

void OutputSet::roll_back() noexcept {
  for (const Staged& s : staged) ::unlink(s.temporary.c_str());
  staged.clear();
  for (const Direct& d : direct) ::close(d.fd);
  direct.clear();
  // Innermost first; a directory that holds something else by now is left alone.
  for (auto it = created_directories.rbegin(); it != created_directories.rend(); ++it) ::rmdir(it->c_str());
  created_directories.clear();
}

void OutputSet::commit() {
  // Devices and pipes first: they are the writes that can still fail (ENOSPC on /dev/full), and
  // then no file has been replaced yet. The destructor removes the temporary files.
  while (!direct.empty()) {
    const Direct d = std::move(direct.front());
    direct.erase(direct.begin());  // closed by write_and_close, whatever happens
    write_and_close(d.fd, d.path, d.bytes, d.truncate);
  }
  for (size_t i = 0; i < staged.size(); ++i)
    if (std::rename(staged[i].temporary.c_str(), staged[i].target.c_str()) != 0) {
      const int err = errno;
      const std::string given = staged[i].given;
      // Those before i are in place; i and after are removed by the destructor.
      staged.erase(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(i));
      fail(given, "cannot move into place", err);
    }
  staged.clear();
  created_directories.clear();  // they hold committed files now
}

void create_output_directory(const std::string& dir) {
  std::vector<std::string> missing;
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec) || fs::is_symlink(p, ec)) break;
    missing.push_back(p.string());
    if (p.parent_path() == p) break;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw std::runtime_error(printable(dir) + ": cannot create the directory: " + (ec ? ec.message() : "a file of that name exists"));
  if (OutputSet* set = OutputSet::current())  // outermost first, so that roll_back removes the innermost first
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) set->created_directories.push_back(*it);
}

void write_file_atomically(const std::string& given, std::string_view bytes) {
  struct stat st;
  const bool exists = ::stat(given.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw std::runtime_error(printable(given) + ": cannot create: it is a directory");
  const std::string path = follow_links(given);
  // A device or pipe, or a file descriptor the shell opened (-o /dev/stdout > out.npy): written
  // in place, since renaming over it would replace the link or the device node.
  if ((exists && !S_ISREG(st.st_mode)) || path.starts_with("/proc/")) {
    const bool truncate = exists && S_ISREG(st.st_mode) && !path.starts_with("/proc/");
    if (OutputSet* set = OutputSet::current()) {
      // Opened now, so that a path that cannot be written fails before anything is computed
      // further; written at commit.
      const int fd = ::open(given.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) fail(given, "cannot open for writing", errno);
      set->direct.push_back({given, std::string(bytes), truncate, fd});
    } else {
      write_directly(given, bytes, truncate);
    }
    return;
  }
  const fs::path dir = fs::path(path).parent_path();
  remove_stale_temporaries(dir.string());
  std::string tmp = (dir / (std::string(kTemporaryPrefix) + std::to_string(::getpid()) + "-XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) fail(given, "cannot create", errno);
  auto give_up = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(given, what, err);
  };
  // mkstemp creates 0600; a new output gets what open(..., 0666) would, an existing one keeps its mode.
  if (::fchmod(fd, exists ? (st.st_mode & 07777) : (0666 & ~current_umask())) != 0) give_up("cannot set permissions", errno);
  if (const int err = write_all(fd, bytes)) give_up("write failed", err);
  if (::fsync(fd) != 0) give_up("cannot flush to disk", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(given, "cannot flush to disk", err);
  }
  if (OutputSet* set = OutputSet::current()) {
    set->staged.push_back({given, tmp, path});
    return;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(given, "cannot move into place", err);
  }
}

std::string read_file(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw std::runtime_error(printable(path) + ": no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw std::runtime_error(printable(path) + ": cannot read size: " + ec.message());
  if (size > max_bytes) throw std::runtime_error(printable(path) + ": file of " + std::to_string(size) + " bytes is larger than the limit of " + std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(printable(path) + ": cannot open");
  std::string data(size, '\0');
  in.read(data.data(), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) throw std::runtime_error(printable(path) + ": short read");
  return data;
}

}  // namespace integrad::nn
