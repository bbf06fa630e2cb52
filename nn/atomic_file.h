// Whole files in and out. Outputs go to a temporary file beside the target and are renamed into
// place, so a reader never sees half a file and a crash never leaves one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

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
// The whole file; errors name the path. Refuses files larger than max_bytes.
std::string read_file(const std::string& path, size_t max_bytes = size_t(4) << 30);

// The prefix of write_file_atomically's temporary files.
inline constexpr std::string_view kTemporaryPrefix = ".integrad-tmp-";
// Removes temporary files in `directory` whose writing process no longer runs; returns how many.
int remove_stale_temporaries(const std::string& directory);

}  // namespace integrad::nn
