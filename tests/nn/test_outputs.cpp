// Outputs: written whole through links, directly into devices and pipes, never onto an input, and
// never by two processes at once.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "nn/atomic_file.h"
#include "nn/output_guard.h"
#include "temp_path.h"

using namespace integrad;
namespace fs = std::filesystem;

namespace {
// A fresh, empty directory for one test case.
std::string fresh_dir(const std::string& name) {
  const std::string dir = temp_path(name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
int count_temporaries(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().starts_with(nn::kTemporaryPrefix);
  return n;
}
}  // namespace

TEST_CASE("write_file_atomically: a symbolic link is written through to its target, the link stays") {
  const std::string dir = fresh_dir("links");
  nn::write_file_atomically(dir + "/target.npy", "old");
  fs::create_symlink("target.npy", dir + "/link.npy");
  nn::write_file_atomically(dir + "/link.npy", "new");
  CHECK(fs::is_symlink(dir + "/link.npy"));
  CHECK(nn::read_file(dir + "/target.npy") == "new");
  // A dangling link: its target is created.
  fs::create_symlink("later.npy", dir + "/dangling.npy");
  nn::write_file_atomically(dir + "/dangling.npy", "made");
  CHECK(fs::is_symlink(dir + "/dangling.npy"));
  CHECK(nn::read_file(dir + "/later.npy") == "made");
  CHECK(count_temporaries(dir) == 0);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: a FIFO is written directly, not replaced") {
  const std::string dir = fresh_dir("fifo"), fifo = dir + "/pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    received.assign(std::istreambuf_iterator<char>(in), {});
  });
  nn::write_file_atomically(fifo, "through the pipe");
  reader.join();
  CHECK(received == "through the pipe");
  struct stat st;
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(count_temporaries(dir) == 0);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: short hidden temporaries, so a 252-byte name works; only provably stale ones are removed") {
  const std::string dir = fresh_dir("names");
  const std::string long_name = dir + "/" + std::string(248, 'n') + ".npy";  // 252 bytes
  nn::write_file_atomically(long_name, "long");
  CHECK(nn::read_file(long_name) == "long");
  // A temporary file left by a process of this host, boot and pid namespace that is gone (SIGKILL
  // mid-write) is removed; one of a live process (ours) is kept, and so is one whose name carries
  // another host's identity, or none (an older integrad's): a pid that does not exist here may
  // be a live job on another node writing into a shared directory.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string ours = dir + "/" + std::string(nn::kTemporaryPrefix) + nn::temporary_owner() + "-";
  const std::string stale = ours + std::to_string(child) + "-abcdef";
  const std::string live = ours + std::to_string(::getpid()) + "-ghijkl";
  const std::string other_host = dir + "/" + std::string(nn::kTemporaryPrefix) + (nn::temporary_owner() == "00000000" ? "00000001" : "00000000") + "-" +
                                 std::to_string(child) + "-mnopqr";
  const std::string old_format = dir + "/" + std::string(nn::kTemporaryPrefix) + std::to_string(child) + "-stuvwx";
  for (const std::string& f : {stale, live, other_host, old_format}) std::ofstream(f) << "half";
  CHECK(nn::remove_stale_temporaries(dir) == 1);
  CHECK(!fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(other_host));
  CHECK(fs::exists(old_format));
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: an existing output the user may not write is refused, as cp refuses it") {
  const std::string dir = fresh_dir("readonly"), path = dir + "/r.npy";
  nn::write_file_atomically(path, "mine");
  fs::permissions(path, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir, fs::perms::all);
  // root may write anything (so may cp): the check is made as an ordinary user.
  const pid_t child = ::fork();
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    try {
      nn::write_file_atomically(path, "replaced");
    } catch (const std::runtime_error& e) {
      ::_exit(std::string(e.what()).find("will not replace it: Permission denied (mode 0444") != std::string::npos ? 0 : 2);
    }
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(nn::read_file(path) == "mine");
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: a name longer than the file system takes is refused before anything is written") {
  const std::string dir = fresh_dir("toolong");
  nn::OutputSet set;
  nn::write_file_atomically(dir + "/a.npy", "a");
  CHECK_THROWS_WITH_AS(nn::write_file_atomically(dir + "/" + std::string(250, 'n') + ".npy.range.json", "s"),
                       doctest::Contains("bytes long, the file system takes at most 255"), std::runtime_error);
  fs::remove_all(dir);
}

TEST_CASE("OutputSet: an output that is one of the command's inputs, by any name, or another output, is refused") {
  const std::string dir = fresh_dir("inputs");
  nn::write_file_atomically(dir + "/in.npy", "input");
  fs::create_symlink("in.npy", dir + "/in.npy.range.json");  // a sidecar that is a link to the input
  {
    nn::OutputSet set;
    CHECK(nn::read_file(dir + "/in.npy") == "input");  // read_file records it
    CHECK_THROWS_WITH_AS(nn::write_file_atomically(dir + "/in.npy.range.json", "{}"), doctest::Contains("an input of this command"), std::invalid_argument);
    nn::write_file_atomically(dir + "/out.npy", "1");
    CHECK_THROWS_WITH_AS(nn::write_file_atomically(dir + "/./out.npy", "2"), doctest::Contains("is written twice"), std::invalid_argument);
  }
  CHECK(nn::read_file(dir + "/in.npy") == "input");
  CHECK(!fs::exists(dir + "/out.npy"));
  CHECK(count_temporaries(dir) == 0);
  fs::remove_all(dir);
}

TEST_CASE("OutputSet: a commit whose rename fails part-way puts back what it had replaced") {
  const std::string dir = fresh_dir("rollback");
  nn::write_file_atomically(dir + "/a.npy", "old a");
  {
    nn::OutputSet set;
    nn::write_file_atomically(dir + "/a.npy", "new a");
    nn::write_file_atomically(dir + "/b.npy", "new b");
    nn::write_file_atomically(dir + "/c.npy", "new c");
    set.fail_rename_at = 2;
    CHECK_THROWS_WITH_AS(set.commit(), doctest::Contains("c.npy: cannot move into place"), std::runtime_error);
  }
  CHECK(nn::read_file(dir + "/a.npy") == "old a");
  CHECK(!fs::exists(dir + "/b.npy"));
  CHECK(!fs::exists(dir + "/c.npy"));
  CHECK(count_temporaries(dir) == 0);
  fs::remove_all(dir);
}

TEST_CASE("write_file_atomically: an existing output keeps its permissions; a directory is refused") {
  const std::string dir = fresh_dir("modes"), path = dir + "/m.npy";
  nn::write_file_atomically(path, "a");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  nn::write_file_atomically(path, "b");
  CHECK(fs::status(path).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK_THROWS_WITH(nn::write_file_atomically(dir, "x"), doctest::Contains("it is a directory"));
  fs::remove_all(dir);
}

TEST_CASE("check_outputs: an output naming an input through any link, or another output, is refused") {
  const std::string dir = fresh_dir("guard");
  nn::write_file_atomically(dir + "/x.npy", "x");
  fs::create_symlink("x.npy", dir + "/sym.npy");
  fs::create_hard_link(dir + "/x.npy", dir + "/hard.npy");
  CHECK_THROWS_WITH(nn::check_outputs({{"-o", dir + "/x.npy"}}, {{"INPUT", dir + "/x.npy"}}), doctest::Contains("is the same file as INPUT"));
  CHECK_THROWS_WITH(nn::check_outputs({{"-o", dir + "/sym.npy"}}, {{"INPUT", dir + "/x.npy"}}), doctest::Contains("the input would be overwritten"));
  CHECK_THROWS(nn::check_outputs({{"-o", dir + "/hard.npy"}}, {{"INPUT", dir + "/x.npy"}}));
  CHECK_THROWS(nn::check_outputs({{"-o", dir + "/x.npy"}}, {{"INPUT", dir + "/../" + fs::path(dir).filename().string() + "/x.npy"}}));
  // Two outputs that do not exist yet, named differently.
  CHECK_THROWS_WITH(nn::check_outputs({{"-o", dir + "/new.npy"}, {"--labels-out", dir + "/./new.npy"}}, {}), doctest::Contains("are the same file"));
  CHECK_NOTHROW(nn::check_outputs({{"-o", dir + "/y.npy"}, {"--deltas", ""}}, {{"INPUT", dir + "/x.npy"}, {"--baseline", ""}}));
  fs::remove_all(dir);
}

TEST_CASE("OutputLock: a second writer of the same output (through a link too) is refused until the first is done") {
  const std::string dir = fresh_dir("lock");
  nn::write_file_atomically(dir + "/m.safetensors", "m");
  fs::create_symlink("m.safetensors", dir + "/alias.safetensors");
  {
    const nn::OutputLock first(dir + "/m.safetensors");
    const std::string expected = "another integrad process (pid " + std::to_string(::getpid()) + ") is writing it";
    CHECK_THROWS_WITH(nn::OutputLock(dir + "/alias.safetensors"), doctest::Contains(expected.c_str()));
    CHECK_NOTHROW(nn::OutputLock(dir + "/other.safetensors"));
  }
  CHECK_NOTHROW(nn::OutputLock(dir + "/m.safetensors"));
  // Released locks leave no file behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename().string().starts_with(".integrad-lock-");
  CHECK(files == 0);
  fs::remove_all(dir);
}

TEST_CASE("OutputSet: outputs appear together at commit, and none of them when the command fails") {
  const std::string dir = fresh_dir("output_set");
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  nn::write_file_atomically(dir + "/old.npy", "before");
  SUBCASE("committed: every file in place, the directories kept, no temporary file") {
    nn::OutputSet set;
    nn::write_file_atomically(dir + "/a.npy", "a");
    nn::create_output_directory(dir + "/png/sub");
    nn::write_file_atomically(dir + "/png/sub/0.png", "p");
    nn::write_file_atomically(dir + "/old.npy", "after");
    CHECK_FALSE(fs::exists(dir + "/a.npy"));  // staged, not yet renamed
    CHECK(read(dir + "/old.npy") == "before");
    set.commit();
    CHECK(read(dir + "/a.npy") == "a");
    CHECK(read(dir + "/png/sub/0.png") == "p");
    CHECK(read(dir + "/old.npy") == "after");
    CHECK(count_temporaries(dir) == 0);
  }
  SUBCASE("failed (destroyed without commit): nothing new, the old file unchanged, the directories it made removed") {
    {
      nn::OutputSet set;
      nn::write_file_atomically(dir + "/a.npy", "a");
      nn::create_output_directory(dir + "/png/sub");
      nn::write_file_atomically(dir + "/png/sub/0.png", "p");
      nn::write_file_atomically(dir + "/old.npy", "after");
      CHECK_THROWS(nn::write_file_atomically(dir + "/png", "a directory"));
    }
    CHECK_FALSE(fs::exists(dir + "/a.npy"));
    CHECK_FALSE(fs::exists(dir + "/png"));
    CHECK(read(dir + "/old.npy") == "before");
    CHECK(count_temporaries(dir) == 0);
  }
  SUBCASE("a directory that existed before is kept, and so is what it held") {
    fs::create_directories(dir + "/keep");
    nn::write_file_atomically(dir + "/keep/mine.txt", "mine");
    {
      nn::OutputSet set;
      nn::create_output_directory(dir + "/keep/new");
      nn::write_file_atomically(dir + "/keep/new/0.png", "p");
    }
    CHECK(fs::is_directory(dir + "/keep"));
    CHECK_FALSE(fs::exists(dir + "/keep/new"));
    CHECK(read(dir + "/keep/mine.txt") == "mine");
  }
  SUBCASE("a device written at commit: its failure (ENOSPC) comes before any rename") {
    if (::access("/dev/full", W_OK) != 0) return;
    {
      nn::OutputSet set;
      nn::write_file_atomically(dir + "/a.npy", "a");
      nn::write_file_atomically("/dev/full", "bytes");
      CHECK_THROWS_WITH(set.commit(), doctest::Contains("No space left on device"));
    }
    CHECK_FALSE(fs::exists(dir + "/a.npy"));
    CHECK(count_temporaries(dir) == 0);
  }
  CHECK_THROWS_WITH(nn::create_output_directory(dir + "/old.npy/x"), doctest::Contains("cannot create the directory"));
}
