#pragma once

// kiln as a service (`kiln serve`): a queue of image builds worked by a fixed number of threads,
// each build the same workflow as `kiln build`; the pipeline scheduler; notifications and S3 log
// uploads when builds end; recovery of builds a previous daemon left; graceful shutdown.
// The API server (api/server.hpp) calls it through api::Backend (docs/service.md).

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/api/backend.hpp"
#include "kiln/build/recovery.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/notify/notify.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::service {

using Json = nlohmann::ordered_json;

// What start-up recovery did (build/recovery.hpp).
using RecoveryReport = build::RecoveryReport;

struct ServiceOptions {
  std::filesystem::path root;
  // The operator's log root (kiln serve --log-root): set on every catalog the service opens, so
  // the API and the builds confine local log folders to it. Empty: <root>/logs.
  std::filesystem::path log_root;
  instance::Helpers helpers;
  build::ToeBundle toe;
  std::filesystem::path share_dir;
  state::Account account;
  int max_concurrent_builds = 2;
  // SIGTERM: running builds get this long to finish, then are cancelled.
  std::chrono::seconds shutdown_grace{60};
  std::vector<notify::Topic> topics;
  bool notify_every_status = false;  // also publish BUILDING, TESTING, ... (not only the end)
  // Where s3:// log locations are written (endpoint and credentials; the bucket and prefix come
  // from the infrastructure configuration).
  notify::S3Location s3;
  notify::DeliveryOptions delivery;
  std::chrono::milliseconds scheduler_tick{1000};
  // Called from the recovery thread once the builds a previous daemon left are recovered.
  std::function<void(const RecoveryReport&)> on_recovered;
  // The recovery thread starts only when start_recovery() is called (kiln serve: once the API
  // listens), not in start().
  bool defer_recovery = false;
};

class Service : public api::Backend {
 public:
  // Opens the catalog, queues again what a previous daemon queued, starts the build threads and
  // the scheduler, and recovers the builds a previous daemon left interrupted in a thread of its
  // own (the images it looks at are chosen before any build starts; report in recovery()).
  static Result<std::unique_ptr<Service>> start(ServiceOptions options, const Clock& clock);
  ~Service() override;

  // The PENDING images a previous daemon queued, queued again by start().
  std::vector<std::string> queued_again() const;
  // Starts the recovery thread (with ServiceOptions::defer_recovery); idempotent.
  void start_recovery();
  // Waits for the recovery at start to end, then returns what it did.
  const RecoveryReport& recovery() const;

  // api::Backend
  Result<std::string> create_image(const Json& request) override;
  Result<std::string> start_pipeline_execution(const std::string& pipeline_arn) override;
  Status cancel_image(const std::string& image_arn) override;
  void pipelines_changed() override;
  std::string metrics() override;

  // Opens a catalog of the service's database (one per thread).
  Result<std::unique_ptr<state::Catalog>> open_catalog() const;

  // No new builds; waits up to shutdown_grace for running ones, then cancels them; queued
  // images stay PENDING for the next start. Idempotent.
  void shutdown();
  // True once nothing is queued or running (for tests).
  bool idle() const;

 private:
  struct Impl;
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The non-terminal statuses a build passes through.
std::vector<state::ImageStatus> running_statuses();

}  // namespace kiln::service
