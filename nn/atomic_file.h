// Whole files in and out. Outputs go to a temporary file beside the target and are renamed into
// place, so a reader never sees half a file and a crash never leaves one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace integrad::nn {

// Writes `bytes` as the whole of `path`:
// - a regular file (new or existing) is written to a hidden temporary file in the same directory,
//   ".integrad-tmp-<owner>-<pid>-XXXXXX" (mkstemp; short, so a 255-byte name still works), flushed
//   and renamed into place; an existing file keeps its permissions. Temporary files of processes
//   that are provably gone (same host, boot and pid namespace, no such pid: a SIGKILL mid-write)
//   are removed by the next write into that directory.
// - an existing file the user may not write (mode 0444, another user's) is refused, as cp and a
//   shell's '>' refuse it; so is a name longer than the file system allows, before anything is
//   written.
// - inside an OutputSet, an output that is one of the files the command has read (record_input)
//   or one of its earlier outputs is refused: every output, of every kind, passes this one check.
// - a symbolic link is written through: its target (followed to the end, even if it does not
//   exist yet) is replaced, the link stays — as cp and a shell's '>' do.
// - a character device, FIFO or socket (-o /dev/null, /dev/full, a named pipe), and a link into
//   /proc (/dev/stdout, whatever the shell redirected it to) are written directly, without a
//   temporary file; a failed write (ENOSPC on /dev/full) is an error.
void write_file_atomically(const std::string& path, std::string_view bytes);
// All the outputs of one command, committed together: a failing command leaves none of them.
// While an OutputSet is open (the innermost one on this thread), write_file_atomically stages
// instead of writing: a regular file goes to its temporary file (written and flushed) but is not
// renamed, and the bytes for a device or pipe are kept in memory (the device held open); create_output_directory records
// the directories it creates. commit() writes the devices (a failure there, say ENOSPC on
// /dev/full, still leaves no file), then renames every temporary file into place, in order.
// An OutputSet destroyed without commit() (an exception) removes its temporary files and the
// directories it created (if they are empty by then). commit() may be called more than once:
// `train` commits after every epoch. A commit that fails part-way (a rename refused) puts back
// the files it had already replaced (hard-linked aside first) and removes those it had created.
class OutputSet {
 public:
  OutputSet();
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  void commit();
  // The set write_file_atomically stages into, or nullptr.
  static OutputSet* current();
  // While one lives, writes on this thread go straight to disk: for scratch files that the command
  // reads back itself (and removes), which are not outputs.
  class Suspended {
   public:
    Suspended();
    ~Suspended();
    Suspended(const Suspended&) = delete;
    Suspended& operator=(const Suspended&) = delete;

   private:
    OutputSet* saved_;
  };

  struct Staged {
    std::string given, temporary, target;
    uint64_t hash;  // content_hash of the bytes
  };
  // Opened when staged and held open until commit: closing a FIFO in between would give its
  // reader an end of file, and the commit's write would then wait for a reader forever.
  struct Direct {
    std::string path, bytes;
    bool truncate;
    int fd;
  };
  std::vector<Staged> staged;
  std::vector<Direct> direct;
  std::vector<std::string> created_directories;
  // The files the command has read (device and inode), and the identity of every output staged
  // since the last commit: an output may be neither.
  struct Input {
    std::string path;
    unsigned long long device, inode;
  };
  std::vector<Input> inputs;
  std::vector<std::string> written;  // sorted
  int fail_rename_at = -1;            // for tests: the commit's rename number i fails (EIO)

 private:
  void roll_back() noexcept;
  OutputSet* previous_;
};

// std::filesystem::create_directories, but the directories it creates are recorded in the open
// OutputSet, which removes them again if the command fails. A path that exists and is not a
// directory is an error naming it.
void create_output_directory(const std::string& dir);

// The whole file; errors name the path. Refuses files larger than max_bytes.
std::string read_file(const std::string& path, size_t max_bytes = size_t(4) << 30);

// Notes that the command reads `path` (a regular file): no output of the open OutputSet may be it.
// Every reader calls it (read_file, the .npy memory map, the .csv reader). Without an open set it
// does nothing.
void record_input(const std::string& path);

// Whether `path` names this process's standard output: /dev/stdout, /proc/self/fd/1, /dev/fd/1, or
// the file or pipe it is (compared by device and inode, as the standard output was at start).
bool names_stdout(const std::string& path);
// For a command one of whose outputs is standard output (main calls it when an argument
// names_stdout): the standard output is kept for the data alone — write_file_atomically writes
// such an output there — and descriptor 1 becomes a copy of stderr, so that every line of text a
// command prints ("wrote ...", tables, progress) goes to stderr instead of into the data.
void keep_stdout_for_data();

// FNV-1a (64 bits) of the bytes: what a shard's sidecar records of its output, and of its inputs.
uint64_t content_hash(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull);
// A regular file's size and, beyond 4 MiB, 64 evenly spaced blocks of 64 KiB (the whole of smaller
// files), hashed: cheap for a shard to compute on a large input, and different for different data.
uint64_t file_fingerprint(const std::string& path);

// The prefix of write_file_atomically's temporary files.
inline constexpr std::string_view kTemporaryPrefix = ".integrad-tmp-";
// This process's host, boot and pid namespace, hashed: 8 hex digits in its temporaries' names.
std::string temporary_owner();
// Removes temporary files in `directory` whose writing process provably no longer runs (ours, by
// temporary_owner, and no such pid); returns how many.
int remove_stale_temporaries(const std::string& directory);

}  // namespace integrad::nn
