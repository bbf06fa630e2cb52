#include "nn/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>

#include "nn/printable.h"
#include "nn/stop.h"

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

std::string temporary_owner() {
  // A pid only means something on one host, in one boot, in one pid namespace: a shared out/ of a
  // Slurm array is written by processes of other hosts, whose pids "do not exist" here. The
  // hostname, the kernel's boot id and our pid namespace, hashed, go into every temporary's name,
  // and only temporaries carrying ours are ever judged dead.
  static const std::string owner = [] {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string id = host;
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::string line;
    if (std::getline(boot, line)) id += "/" + line;
    std::error_code ec;
    id.append("/").append(fs::read_symlink("/proc/self/ns/pid", ec).string());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(std::hash<std::string>{}(id) & 0xffffffffu));
    return std::string(hex);
  }();
  return owner;
}

int remove_stale_temporaries(const std::string& directory) {
  int removed = 0;
  std::error_code ec;
  const std::string ours = std::string(kTemporaryPrefix) + temporary_owner() + "-";
  for (fs::directory_iterator it(directory.empty() ? "." : directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // .integrad-tmp-<owner>-<pid>-XXXXXX: only our host, boot and pid namespace's; anything else
    // (another host's, an older format) cannot be proven dead and is left alone.
    if (!name.starts_with(ours)) continue;
    const std::string rest = name.substr(ours.size());
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      if (fs::remove(it->path(), ignored)) ++removed;
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
  throw_if_stop_requested();
  // Devices and pipes first: they are the writes that can still fail (ENOSPC on /dev/full), and
  // then no file has been replaced yet. The destructor removes the temporary files.
  while (!direct.empty()) {
    const Direct d = std::move(direct.front());
    direct.erase(direct.begin());  // closed by write_and_close, whatever happens
    write_and_close(d.fd, d.path, d.bytes, d.truncate);
  }
  // Every final name is checked before the first rename (write_file_atomically checked the names'
  // lengths and modes when it staged them; a directory may have appeared since).
  for (const Staged& s : staged) {
    struct stat st;
    if (::lstat(s.target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(s.given, "cannot move into place", EISDIR);
  }
  // An existing target is hard-linked aside first, so that a rename failing part-way can put back
  // what the earlier ones replaced: a failed commit leaves every output as it was.
  std::vector<std::string> kept(staged.size());
  for (size_t i = 0; i < staged.size(); ++i) {
    struct stat st;
    if (::lstat(staged[i].target.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      const std::string aside = staged[i].temporary + "-old";
      if (::link(staged[i].target.c_str(), aside.c_str()) == 0) kept[i] = aside;
    }
  }
  for (size_t i = 0; i < staged.size(); ++i)
    if (fail_rename_at == int(i) || std::rename(staged[i].temporary.c_str(), staged[i].target.c_str()) != 0) {
      const int err = fail_rename_at == int(i) ? EIO : errno;
      const std::string given = staged[i].given;
      for (size_t j = 0; j < i; ++j) {
        if (!kept[j].empty()) std::rename(kept[j].c_str(), staged[j].target.c_str());
        else ::unlink(staged[j].target.c_str());
      }
      for (size_t j = i; j < staged.size(); ++j)
        if (!kept[j].empty()) ::unlink(kept[j].c_str());
      // Those before i are back as they were; i and after are removed by the destructor.
      staged.erase(staged.begin(), staged.begin() + static_cast<std::ptrdiff_t>(i));
      fail(given, "cannot move into place", err);
    }
  for (const std::string& k : kept)
    if (!k.empty()) ::unlink(k.c_str());
  staged.clear();
  written.clear();
  created_directories.clear();  // they hold committed files now
}

uint64_t content_hash(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

uint64_t file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (!in || ec) throw std::runtime_error(printable(path) + ": cannot read it to fingerprint it");
  const std::string size_text = std::to_string(size);
  uint64_t h = content_hash(size_text);
  constexpr uint64_t kBlock = 1 << 16, kBlocks = 64;
  std::string block;
  const auto read_at = [&](uint64_t offset, uint64_t n) {
    block.resize(n);
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(block.data(), static_cast<std::streamsize>(n));
    block.resize(static_cast<size_t>(in.gcount()));
    h = content_hash(block, h);
  };
  if (size <= kBlock * kBlocks) {
    read_at(0, size);
  } else {
    for (uint64_t k = 0; k < kBlocks; ++k) read_at((size - kBlock) / (kBlocks - 1) * k, kBlock);
  }
  return h;
}

void record_input(const std::string& path) {
  OutputSet* set = OutputSet::current();
  struct stat st;
  if (!set || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  for (const OutputSet::Input& in : set->inputs)
    if (in.device == st.st_dev && in.inode == st.st_ino) return;
  set->inputs.push_back({path, st.st_dev, st.st_ino});
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

namespace {

// Who a path is: its device and inode if it exists, else its resolved absolute path.
std::string identity(const std::string& path) {
  struct stat st;
  std::string id;
  if (::stat(path.c_str(), &st) == 0) return id.append("i").append(std::to_string(st.st_dev)).append(":").append(std::to_string(st.st_ino));
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return id.append("p").append((ec ? fs::absolute(path).lexically_normal() : p).string());
}

// What must hold of a regular file's final name before anything is written: it is none of the
// command's inputs nor an earlier output, the user may write it if it exists, and the file system
// takes a name that long (a rename failing on it later would be too late).
void check_final_name(const std::string& given, const std::string& path, const struct stat* existing) {
  if (OutputSet* set = OutputSet::current()) {
    if (existing)
      for (const OutputSet::Input& in : set->inputs)
        if (in.device == existing->st_dev && in.inode == existing->st_ino)
          throw std::invalid_argument(printable(given) + " is the same file as " + printable(in.path) +
                                      ", an input of this command; the input would be overwritten — write the output elsewhere");
    const std::string id = identity(path);
    const auto at = std::lower_bound(set->written.begin(), set->written.end(), id);
    if (at != set->written.end() && *at == id)
      throw std::invalid_argument(printable(given) + " is written twice by this command (two outputs name the same file); give each output its own");
    set->written.insert(at, id);
  }
  if (existing && ::access(path.c_str(), W_OK) != 0) {
    const int err = errno;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(existing->st_mode & 07777));
    throw std::runtime_error(printable(given) + ": will not replace it: " + std::strerror(err) + " (mode " + mode + ", owner uid " +
                             std::to_string(existing->st_uid) + "), as cp and '>' would not — change its mode or write elsewhere");
  }
  const std::string dir = fs::path(path).parent_path().string();
  const long max_name = ::pathconf(dir.empty() ? "." : dir.c_str(), _PC_NAME_MAX);
  const size_t length = fs::path(path).filename().string().size();
  if (max_name > 0 && length > size_t(max_name))
    throw std::runtime_error(printable(given) + ": the name is " + std::to_string(length) + " bytes long, the file system takes at most " +
                             std::to_string(max_name));
}

}  // namespace

namespace {
struct StdoutIdentity {
  bool valid = false;
  dev_t device = 0;
  ino_t inode = 0;
};
StdoutIdentity stdout_identity() {
  static const StdoutIdentity id = [] {
    struct stat st;
    StdoutIdentity i;
    if (::fstat(STDOUT_FILENO, &st) == 0) i = {true, st.st_dev, st.st_ino};
    return i;
  }();
  return id;
}
int data_stdout = -1;  // the original standard output, once keep_stdout_for_data moved text off it
}  // namespace

bool names_stdout(const std::string& path) {
  if (path == "/dev/stdout" || path == "/proc/self/fd/1" || path == "/dev/fd/1" || path == "-") return path != "-";
  const StdoutIdentity id = stdout_identity();
  struct stat st;
  return id.valid && ::stat(path.c_str(), &st) == 0 && st.st_dev == id.device && st.st_ino == id.inode && !S_ISCHR(st.st_mode);
}

void keep_stdout_for_data() {
  if (data_stdout >= 0) return;
  stdout_identity();  // before descriptor 1 changes
  std::fflush(stdout);
  data_stdout = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (data_stdout >= 0) ::dup2(STDERR_FILENO, STDOUT_FILENO);
}

void write_file_atomically(const std::string& given, std::string_view bytes) {
  throw_if_stop_requested();
  if (data_stdout >= 0 && names_stdout(given)) {  // the data goes where standard output went
    const int fd = ::fcntl(data_stdout, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) fail(given, "cannot write", errno);
    if (OutputSet* set = OutputSet::current()) set->direct.push_back({given, std::string(bytes), false, fd});
    else write_and_close(fd, given, bytes, false);
    return;
  }
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
  check_final_name(given, path, exists ? &st : nullptr);
  {
    // Once per directory and process: --png writes thousands of files into one directory, and a
    // scan before each was quadratic.
    static std::mutex guard;
    static std::set<std::string> swept;
    const std::lock_guard lock(guard);
    if (swept.insert(dir.string()).second) remove_stale_temporaries(dir.string());
  }
  std::string tmp = (dir / (std::string(kTemporaryPrefix) + temporary_owner() + "-" + std::to_string(::getpid()) + "-XXXXXX")).string();
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
    set->staged.push_back({given, tmp, path, content_hash(bytes)});
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
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw std::runtime_error(printable(path) + ": no such file");
  if (fs::is_directory(status)) throw std::runtime_error(printable(path) + ": is a directory, not a file");
  if (!fs::is_regular_file(status)) {
    // A pipe (/dev/stdin, a shell's <(...)): read to its end, up to the limit.
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(printable(path) + ": cannot open");
    std::string data;
    char buffer[1 << 16];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      data.append(buffer, static_cast<size_t>(in.gcount()));
      if (data.size() > max_bytes) throw std::runtime_error(printable(path) + ": more than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    return data;
  }
  record_input(path);
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
