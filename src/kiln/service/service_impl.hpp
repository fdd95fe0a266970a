#pragma once

// The inside of Service, shared by service.cpp (queue, workers, recovery), service_schedule.cpp
// (the scheduler) and service_metrics.cpp.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "kiln/image/images.hpp"
#include "kiln/service/service.hpp"

namespace kiln::service {

struct Service::Impl {
  Impl(ServiceOptions o, const Clock& c) : options(std::move(o)), clock(c) {}

  ServiceOptions options;
  const Clock& clock;
  RecoveryReport recovery;
  // The recovery thread (recovery_mutex): recovered turns true when it ends.
  std::thread recovery_thread;
  mutable std::mutex recovery_mutex;
  mutable std::condition_variable recovery_done;
  bool recovered = false;
  std::vector<Json> to_recover;  // chosen in start(), recovered by the thread

  // The service's own catalog and images, for API calls and the scheduler (catalog_mutex).
  std::mutex catalog_mutex;
  std::unique_ptr<state::Catalog> catalog;
  std::unique_ptr<image::Images> images;
  std::unique_ptr<notify::Notifier> notifier;

  // The queue (mutex): image ARNs waiting, and the cancel flags of those running.
  mutable std::mutex mutex;
  std::condition_variable work;
  std::condition_variable idle_changed;
  std::deque<std::string> queue;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> running;
  bool accepting_builds = true;
  bool shut_down = false;
  bool stopping_queue = false;  // workers take nothing new
  bool stopping = false;
  std::vector<std::thread> workers;

  // The scheduler (mutex).
  std::thread scheduler;
  std::condition_variable scheduler_wake;
  bool pipelines_dirty = true;

  // Metrics (metrics_mutex).
  std::mutex metrics_mutex;
  uint64_t builds_started = 0;
  std::map<std::string, uint64_t> finished;                          // by final status
  std::map<std::string, std::pair<double, uint64_t>> stage_seconds;  // sum, count
  uint64_t scheduled_runs = 0;
  uint64_t skipped_runs = 0;  // no dependency updates

  bool accepting() const {
    std::lock_guard<std::mutex> lock(mutex);
    return accepting_builds;
  }
  Result<std::unique_ptr<state::Catalog>> open_catalog() const;
  // Queues what was PENDING and never started; returns the images left to recover.
  Result<std::vector<Json>> requeue();
  void recover(std::vector<Json> left);
  void enqueue(const std::string& arn);
  void worker_loop();
  void run_one(state::Catalog& own,
               image::Images& own_images,
               const std::string& arn,
               std::atomic<bool>* cancel);
  void after_build(state::Catalog& own, const Json& image);

  // service_schedule.cpp (catalog_mutex held by the caller).
  Result<std::string> start_pipeline(const std::string& pipeline_arn, bool scheduled);
  void scheduler_loop();
  void scheduler_pass();
  Result<bool> has_dependency_updates(const Json& pipeline);
};

}  // namespace kiln::service
