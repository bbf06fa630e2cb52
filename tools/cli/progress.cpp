#include "progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace integrad::cli {

namespace {
constexpr double kQuietSeconds = 2.0;  // shorter runs print nothing
double seconds_since(std::chrono::steady_clock::time_point t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); }
}  // namespace

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(std::max<int64_t>(total, 0)), quiet_(quiet || total <= 0), terminal_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void Progress::advance(int64_t done) { set(done_ + double(std::max<int64_t>(done, 0))); }

void Progress::set(double done) {
  done_ = std::clamp(done, done_, double(total_));
  if (quiet_ || finished_ || seconds_since(start_) < kQuietSeconds) return;
  if (terminal_) {
    if (seconds_since(last_draw_) >= 0.1 || !shown_) draw(false);
  } else {
    const int decile = static_cast<int>(done_ * 10 / double(std::max<int64_t>(total_, 1)));
    if (decile > last_decile_) {
      last_decile_ = decile;
      draw(false);
    }
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (shown_) draw(true);
}

void Progress::draw(bool last) {
  shown_ = true;
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = seconds_since(start_), fraction = total_ ? done_ / double(total_) : 1.0;
  const int64_t whole = static_cast<int64_t>(done_);
  const std::string eta = fraction > 0 && !last ? fmt::format(", {:.0f} s left", elapsed * (1 - fraction) / fraction) : "";
  if (terminal_) {
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    fmt::print(stderr, "\r{} [{}{}] {}/{} ({:.0f}%) {:.1f} s{}\x1b[K{}", label_, std::string(size_t(filled), '#'), std::string(size_t(width - filled), '.'),
               whole, total_, 100 * fraction, elapsed, eta, last ? "\n" : "");
  } else {
    fmt::print(stderr, "{}: {}/{} ({:.0f}%) {:.1f} s{}\n", label_, whole, total_, 100 * fraction, elapsed, eta);
  }
  std::fflush(stderr);
}

}  // namespace integrad::cli
