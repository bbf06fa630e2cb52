// Guards for a command's outputs: none may be one of its inputs (or another output), and a long
// writer (train) holds a lock so two runs cannot write the same file at once.
#pragma once

#include <string>
#include <vector>

namespace integrad::nn {

// A path and how the user named it on the command line ("-o", "--inputs", "MODEL").
struct NamedPath {
  std::string option;
  std::string path;
};

// True when a and b are the same file: the same device and inode (so symbolic and hard links
// count), or, for paths that do not exist yet, the same resolved path.
bool same_file(const std::string& a, const std::string& b);

// Throws std::invalid_argument when an output names one of the inputs or another output, e.g.
// "-o x.npy is the same file as INPUT x.npy; the input would be overwritten". Empty paths (options
// not given) are skipped. Call it before reading or writing anything:
//   nn::check_outputs({{"-o", a.output}, {"--deltas", a.deltas}}, {{"MODEL", a.model}, {"INPUT", a.inputs}});
void check_outputs(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

// An exclusive lock on an output for as long as the object lives: a second process asking for
// the same output (through any link) is refused with "another integrad process (pid N) is
// writing it". The lock is a hidden file ".integrad-lock-<hash>" beside the resolved output
// (flock, so it is released if the process dies); it is removed when the lock is released.
class OutputLock {
 public:
  explicit OutputLock(const std::string& output);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace integrad::nn
