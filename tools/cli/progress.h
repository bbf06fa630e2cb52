// Progress of a long run, on stderr: a bar redrawn in place when stderr is a terminal, a plain line
// every 10% otherwise (logs, Slurm), nothing when quiet or for short runs (under 2 s, nothing shows).
//
//   Progress p("explain", n_examples);   // label, total units of work
//   for (...) { ...; p.advance(k); }     // k units done since the last call
//   p.set(12.5);                         // or: this many units done so far (fractions allowed)
//   p.finish();                          // optional: the destructor finishes too
//
// Set quiet (the constructor's third argument) for -q. Nothing is printed before 2 s have passed,
// so quick runs and the tests' outputs stay as they were.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace integrad::cli {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool quiet = false);
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t done);
  void set(double done);
  void finish();

 private:
  void draw(bool last);
  std::string label_;
  int64_t total_;
  double done_ = 0;
  bool quiet_, terminal_, shown_ = false, finished_ = false;
  int last_decile_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace integrad::cli
