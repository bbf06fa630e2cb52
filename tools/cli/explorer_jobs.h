// The explorer's computing requests as jobs on a fixed pool of worker threads: the HTTP threads
// stay free (the page keeps answering while an explanation runs), a job reports its progress and
// can be cancelled, and memory stays bounded — at most kWorkers jobs compute at once (each with
// its own thread's tapes, autodiff/thread_tape.h, so no two requests share a tape), at most
// kMaxQueued wait, and only the last kMaxKept finished results are kept.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "explorer_model.h"
#include "nn/stop.h"

namespace integrad::cli::explorer {

struct Job {
  enum class State { queued, running, done, failed, cancelled };
  uint64_t id = 0;
  std::atomic<double> progress = 0;
  std::atomic<bool> cancel = false;
  std::function<nlohmann::json(Job&)> work;
  // Guarded by JobTable's mutex:
  State state = State::queued;
  nlohmann::json result;
  std::string error;

  // The progress callback a method gets: records the fraction and stops the work on cancel.
  std::function<void(double)> reporter() {
    return [this](double f) {
      progress = f;
      if (cancel) throw Cancelled();
    };
  }
};

// A request the pool cannot take now (the queue is full): HTTP 503.
struct Busy : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class JobTable {
 public:
  static constexpr size_t kWorkers = 2, kMaxQueued = 8, kMaxKept = 8;

  JobTable() {
    for (size_t i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { serve(); });
  }
  ~JobTable() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (auto& [id, job] : jobs_) job->cancel = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  std::shared_ptr<Job> submit(std::function<nlohmann::json(Job&)> work) {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kMaxQueued) throw Busy("the server is busy: " + std::to_string(queue_.size()) + " requests are waiting; try again shortly");
    auto job = std::make_shared<Job>();
    job->id = ++last_id_;
    job->work = std::move(work);
    jobs_[job->id] = job;
    queue_.push_back(job);
    forget_old();
    wake_.notify_one();
    return job;
  }

  std::shared_ptr<Job> find(uint64_t id) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second;
  }

  // Waits until the job has finished (or failed, or was cancelled).
  void wait(Job& job) {
    std::unique_lock lock(mu_);
    done_.wait(lock, [&] { return job.state != Job::State::queued && job.state != Job::State::running; });
  }

  nlohmann::json status(const Job& job) {
    static const char* names[] = {"queued", "running", "done", "failed", "cancelled"};
    std::lock_guard lock(mu_);
    nlohmann::json s = {{"job", job.id}, {"state", names[static_cast<int>(job.state)]}, {"progress", job.progress.load()}};
    if (job.state == Job::State::done) s["result"] = job.result;
    if (job.state == Job::State::failed) s["error"] = job.error;
    return s;
  }

 private:
  void serve() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = queue_.front();
        queue_.pop_front();
        job->state = job->cancel ? Job::State::cancelled : Job::State::running;
      }
      if (job->state == Job::State::cancelled) {
        done_.notify_all();
        continue;
      }
      nlohmann::json result;
      Job::State state = Job::State::done;
      std::string error;
      try {
        // Cancel reaches what polls nn::throw_if_stop_requested (between examples, passes and
        // layers), so a method that reports no progress stops too.
        const nn::CancelScope scope(&job->cancel);
        result = job->work(*job);
      } catch (const Cancelled&) {
        state = Job::State::cancelled;
      } catch (const nn::Stopped& e) {
        state = e.signal == 0 ? Job::State::cancelled : Job::State::failed;
        if (e.signal != 0) error = e.what();
      } catch (const std::exception& e) {
        state = Job::State::failed;
        error = e.what();
      }
      {
        std::lock_guard lock(mu_);
        job->state = job->cancel && state == Job::State::done ? Job::State::cancelled : state;
        job->result = std::move(result);
        job->error = std::move(error);
        job->progress = 1;
        job->work = nullptr;  // what the closure holds (the inputs) is freed now
      }
      done_.notify_all();
    }
  }

  // Drops the oldest finished jobs beyond kMaxKept (called with the mutex held).
  void forget_old() {
    size_t finished = 0;
    for (auto& [id, job] : jobs_) finished += job->state != Job::State::queued && job->state != Job::State::running;
    for (auto it = jobs_.begin(); finished > kMaxKept && it != jobs_.end();) {
      if (it->second->state == Job::State::queued || it->second->state == Job::State::running) {
        ++it;
        continue;
      }
      it = jobs_.erase(it);
      --finished;
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::map<uint64_t, std::shared_ptr<Job>> jobs_;
  std::vector<std::thread> workers_;
  uint64_t last_id_ = 0;
  bool stopping_ = false;
};

}  // namespace integrad::cli::explorer
