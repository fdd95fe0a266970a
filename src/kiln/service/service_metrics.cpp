// GET /metrics: the service's counters in Prometheus text format.

#include "kiln/service/service_impl.hpp"

namespace kiln::service {

std::string Service::metrics() {
  Impl& d = *impl_;
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  // Images by status, from the catalog.
  std::map<std::string, uint64_t> by_status;
  {
    std::lock_guard<std::mutex> lock(d.catalog_mutex);
    if (Result<std::vector<Json>> all = d.catalog->images_with_status({})) {
      for (const Json& image : *all) {
        by_status[image.value("state", Json::object()).value("status", "")]++;
      }
    }
  }
  family("kiln_images", "gauge", "Image builds by status.");
  for (const auto& [status, count] : by_status) {
    out += fmt::format("kiln_images{{status=\"{}\"}} {}\n", status, count);
  }
  size_t queued = 0;
  size_t running = 0;
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    queued = d.queue.size();
    running = d.running.size();
  }
  family("kiln_build_queue_length", "gauge", "Builds waiting for a free worker.");
  out += fmt::format("kiln_build_queue_length {}\n", queued);
  family("kiln_builds_running", "gauge", "Builds running now.");
  out += fmt::format("kiln_builds_running {}\n", running);
  family("kiln_build_workers", "gauge", "Builds that may run at once.");
  out += fmt::format("kiln_build_workers {}\n", d.options.max_concurrent_builds);
  std::lock_guard<std::mutex> lock(d.metrics_mutex);
  family("kiln_builds_started_total", "counter", "Builds this daemon started.");
  out += fmt::format("kiln_builds_started_total {}\n", d.builds_started);
  family("kiln_builds_finished_total", "counter", "Builds this daemon finished, by status.");
  for (const auto& [status, count] : d.finished) {
    out += fmt::format("kiln_builds_finished_total{{status=\"{}\"}} {}\n", status, count);
  }
  family("kiln_stage_duration_seconds", "summary", "Time spent in each build stage.");
  for (const auto& [stage, sum_count] : d.stage_seconds) {
    out += fmt::format(
        "kiln_stage_duration_seconds_sum{{stage=\"{}\"}} {:.3f}\n", stage, sum_count.first);
    out += fmt::format(
        "kiln_stage_duration_seconds_count{{stage=\"{}\"}} {}\n", stage, sum_count.second);
  }
  family("kiln_scheduled_runs_total", "counter", "Scheduled pipeline runs started.");
  out += fmt::format("kiln_scheduled_runs_total {}\n", d.scheduled_runs);
  family("kiln_scheduled_runs_skipped_total",
         "counter",
         "Scheduled runs skipped: no dependency updates.");
  out += fmt::format("kiln_scheduled_runs_skipped_total {}\n", d.skipped_runs);
  return out;
}

}  // namespace kiln::service
