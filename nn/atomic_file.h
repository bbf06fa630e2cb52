// Whole files in and out. Outputs go to a temporary file beside the target and are renamed into
// place, so a reader never sees half a file and a crash never leaves one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace integrad::nn {

// Writes `bytes` as the whole of `path`:
// - a regular file (new or existing) is written to a hidden temporary file in the same directory,
//   ".integrad-tmp-<pid>-XXXXXX" (mkstemp; short, so a 255-byte name still works), flushed and
//   renamed into place; an existing file keeps its permissions. Temporary files of processes that
//   are gone (a SIGKILL mid-write) are removed by the next write into that directory.
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
// `train` commits after every epoch.
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

// The prefix of write_file_atomically's temporary files.
inline constexpr std::string_view kTemporaryPrefix = ".integrad-tmp-";
// Removes temporary files in `directory` whose writing process no longer runs; returns how many.
int remove_stale_temporaries(const std::string& directory);

}  // namespace integrad::nn
