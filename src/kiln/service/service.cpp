// The build queue, its workers, recovery at start and graceful shutdown. The scheduler is in
// service_schedule.cpp, metrics in service_metrics.cpp.

#include "kiln/service/service.hpp"

#include <malloc.h>
#include <signal.h>

#include "kiln/base/log.hpp"
#include "kiln/build/stage.hpp"
#include "kiln/service/service_impl.hpp"

namespace kiln::service {

using state::ImageStatus;

std::vector<ImageStatus> running_statuses() {
  return {ImageStatus::kPending,
          ImageStatus::kCreating,
          ImageStatus::kBuilding,
          ImageStatus::kTesting,
          ImageStatus::kDistributing,
          ImageStatus::kIntegrating};
}

Result<std::unique_ptr<state::Catalog>> Service::Impl::open_catalog() const {
  std::unique_ptr<state::Catalog> opened =
      KILN_TRY(state::Catalog::open(options.root / "state.db", options.account, clock));
  if (!options.log_root.empty()) {
    opened->set_log_root(options.log_root);
  }
  return opened;
}

Result<std::vector<Json>> Service::Impl::requeue() {
  std::vector<Json> left;
  for (Json& image : KILN_TRY(build::unfinished_images(*catalog))) {
    switch (build::recovery_action(image, true, build::builder_alive)) {
      case build::RecoveryAction::kRequeue:
        // Queued but never started: nothing of it ran, so it is built now.
        recovery.requeued.push_back(image.value("arn", ""));
        queue.push_back(image.value("arn", ""));
        break;
      case build::RecoveryAction::kFail:
        left.push_back(std::move(image));
        break;
      case build::RecoveryAction::kLeave:
        break;  // a kiln build in another process
    }
  }
  return left;
}

// In the recovery thread, on catalog and images of its own.
void Service::Impl::recover(std::vector<Json> left) {
  Result<std::unique_ptr<state::Catalog>> own = open_catalog();
  Result<std::unique_ptr<image::Images>> own_images = image::Images::open(options.root);
  if (!own || !own_images) {
    KILN_LOG(kError,
             "recovering the builds of a previous daemon: {}",
             !own ? own.error().message : own_images.error().message);
  } else {
    build::RecoveryEnvironment env{options.root, own->get(), own_images->get(), options.helpers};
    Result<build::RecoveryReport> done = build::recover_builds(
        env, left, false, [&](const Json& failed) { after_build(**own, failed); });
    if (!done) {
      KILN_LOG(kError, "recovering the builds of a previous daemon: {}", done.error().message);
    } else {
      recovery.failed = done->failed;
      recovery.reaped_instances = done->reaped_instances;
    }
  }
  if (options.on_recovered) {
    options.on_recovered(recovery);
  }
  {
    std::lock_guard<std::mutex> lock(recovery_mutex);
    recovered = true;
  }
  recovery_done.notify_all();
}

void Service::Impl::enqueue(const std::string& arn) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    queue.push_back(arn);
  }
  work.notify_one();
}

void Service::Impl::worker_loop() {
  Result<std::unique_ptr<state::Catalog>> own_catalog = open_catalog();
  Result<std::unique_ptr<image::Images>> own_images = image::Images::open(options.root);
  if (!own_catalog || !own_images) {
    KILN_LOG(kError,
             "build worker cannot start: {}",
             !own_catalog ? own_catalog.error().message : own_images.error().message);
    return;
  }
  while (true) {
    std::string arn;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    {
      std::unique_lock<std::mutex> lock(mutex);
      work.wait(lock, [this] { return stopping || stopping_queue || !queue.empty(); });
      if (stopping || stopping_queue) {
        return;  // what is queued stays PENDING for the next start
      }
      arn = queue.front();
      queue.pop_front();
      running[arn] = cancel;
    }
    run_one(**own_catalog, **own_images, arn, cancel.get());
    // What a build freed goes back to the system: a build's transient memory is spread over the
    // arenas of the threads it used, and glibc returns an arena's free pages only from its top,
    // so the daemon's RSS would creep up by some kB per build (bench/soak_bench.sh).
    ::malloc_trim(0);
    {
      std::lock_guard<std::mutex> lock(mutex);
      running.erase(arn);
    }
    idle_changed.notify_all();
  }
}

void Service::Impl::run_one(state::Catalog& own,
                            image::Images& own_images,
                            const std::string& arn,
                            std::atomic<bool>* cancel) {
  Result<Json> image = own.get_image(arn);
  if (!image || image->value("state", Json::object()).value("status", "") != "PENDING") {
    return;  // cancelled or deleted while queued
  }
  build::BuildEnvironment env;
  env.root = options.root;
  env.images = &own_images;
  env.helpers = options.helpers;
  env.catalog = &own;
  env.toe = options.toe;
  env.share_dir = options.share_dir;
  std::string topic =
      image->value("infrastructureConfiguration", Json::object()).value("snsTopicArn", "");
  auto events = [&](const build::Event& e) {
    if (e.kind == build::Event::Kind::kStatus && options.notify_every_status && !topic.empty() &&
        e.status != "AVAILABLE" && e.status != "FAILED") {
      if (Result<Json> now = own.get_image(arn)) {
        notifier->publish(topic, notify::image_message(*now));
      }
    }
  };
  {
    std::lock_guard<std::mutex> lock(metrics_mutex);
    builds_started++;
  }
  Result<build::BuildOutcome> outcome = build::run_build(env, arn, cancel, events);
  if (!outcome) {
    KILN_LOG(kError, "build {}: {}", arn, outcome.error().message);
    (void)own.set_image_status(arn, ImageStatus::kFailed, outcome.error().message);
    if (Result<Json> failed = own.get_image(arn)) {
      after_build(own, *failed);
    }
    return;
  }
  after_build(own, outcome->image);
}

// What follows the end of a build: metrics, the pipeline's record, notifications, log upload.
void Service::Impl::after_build(state::Catalog& own, const Json& image) {
  std::string arn = image.value("arn", "");
  std::string status = image.value("state", Json::object()).value("status", "");
  {
    std::lock_guard<std::mutex> lock(metrics_mutex);
    finished[status]++;
    for (const Json& stage : image.value("kiln", Json::object()).value("stages", Json::array())) {
      auto& [sum, count] = stage_seconds[stage.value("name", "")];
      sum += stage.value("seconds", 0.0);
      count++;
    }
  }
  std::string pipeline = image.value("sourcePipelineArn", "");
  if (!pipeline.empty()) {
    std::optional<ImageStatus> parsed = state::parse_image_status(status);
    if (parsed) {
      Result<Json> recorded = own.record_pipeline_result(
          pipeline, *parsed, image.value("buildType", "") == "SCHEDULED");
      if (!recorded) {
        KILN_LOG(kWarning, "pipeline {}: {}", pipeline, recorded.error().message);
      }
    }
  }
  const Json infra = image.value("infrastructureConfiguration", Json::object());
  std::string topic = infra.value("snsTopicArn", "");
  if (!topic.empty() && (status == "AVAILABLE" || status == "FAILED")) {
    notifier->publish(topic, notify::image_message(image));
  }
  const Json s3 = infra.value("logging", Json::object()).value("s3Logs", Json::object());
  std::string bucket = s3.value("s3BucketName", "");
  std::string folder = image.value("kiln", Json::object()).value("logLocation", "");
  if (!bucket.empty() && !folder.empty()) {
    notify::S3Location location = options.s3;
    location.bucket = bucket;
    location.prefix = s3.value("s3KeyPrefix", "");
    Result<catalog::ImageBuilderArn> parsed = catalog::ImageBuilderArn::parse(arn);
    std::string key =
        parsed && parsed->version && parsed->build
            ? fmt::format("{}/{}/{}", parsed->name, parsed->version->str(), *parsed->build)
            : arn;
    Result<notify::UploadReport> uploaded =
        notify::upload_folder(folder, location, key, options.delivery);
    Json record;
    if (!uploaded) {
      record = Json{{"status", "failed"}, {"error", uploaded.error().message}};
    } else {
      record = Json{{"status", uploaded->failed.empty() ? "uploaded" : "incomplete"},
                    {"location", fmt::format("s3://{}/{}{}", bucket, location.prefix, key)},
                    {"files", uploaded->files},
                    {"failedKeys", uploaded->failed}};
    }
    if (record.value("status", "") != "uploaded") {
      KILN_LOG(kWarning, "logs of {} not all uploaded: {}", arn, record.dump());
    }
    (void)own.update_image(arn, [&](Json& stored) { stored["kiln"]["logUpload"] = record; });
  }
}

// --- Service -------------------------------------------------------------------------------

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  shutdown();
}

Result<std::unique_ptr<Service>> Service::start(ServiceOptions options, const Clock& clock) {
  auto impl = std::make_unique<Impl>(std::move(options), clock);
  std::error_code ec;
  std::filesystem::create_directories(impl->options.root, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "creating {}: {}", impl->options.root.string(), ec.message());
  }
  impl->catalog = KILN_TRY(impl->open_catalog());
  impl->images = KILN_TRY(image::Images::open(impl->options.root));
  impl->notifier = std::make_unique<notify::Notifier>(impl->options.topics, impl->options.delivery);
  // Chosen before any build of ours starts, so that recovery never takes one of them for a
  // build of an earlier daemon; cleaned up while the daemon already answers.
  impl->to_recover = KILN_TRY_CTX(impl->requeue(), "recovering the builds of a previous daemon");
  if (!impl->options.defer_recovery) {
    impl->recovery_thread = std::thread([raw = impl.get()] { raw->recover(raw->to_recover); });
  }
  int workers = std::max(1, impl->options.max_concurrent_builds);
  for (int i = 0; i < workers; ++i) {
    impl->workers.emplace_back([raw = impl.get()] { raw->worker_loop(); });
  }
  impl->scheduler = std::thread([raw = impl.get()] { raw->scheduler_loop(); });
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

std::vector<std::string> Service::queued_again() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->recovery.requeued;
}

void Service::start_recovery() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (!impl_->recovery_thread.joinable() && !impl_->shut_down) {
    impl_->recovery_thread = std::thread([raw = impl_.get()] { raw->recover(raw->to_recover); });
  }
}

const RecoveryReport& Service::recovery() const {
  std::unique_lock<std::mutex> lock(impl_->recovery_mutex);
  impl_->recovery_done.wait(lock, [this] { return impl_->recovered; });
  return impl_->recovery;
}

Result<std::unique_ptr<state::Catalog>> Service::open_catalog() const {
  return impl_->open_catalog();
}

Result<std::string> Service::create_image(const Json& request) {
  std::string arn;
  {
    std::lock_guard<std::mutex> lock(impl_->catalog_mutex);
    if (!impl_->accepting()) {
      return make_error(ErrorCode::kUnavailable, "kiln is shutting down: no new builds");
    }
    uint32_t min_build = build::first_free_build_of_recipe(
        impl_->images->store(), *impl_->catalog, request.value("imageRecipeArn", ""));
    state::Created created = KILN_TRY(impl_->catalog->create_image(request, min_build));
    arn = created.arn;
  }
  impl_->enqueue(arn);
  return arn;
}

Result<std::string> Service::start_pipeline_execution(const std::string& pipeline_arn) {
  std::lock_guard<std::mutex> lock(impl_->catalog_mutex);
  return impl_->start_pipeline(pipeline_arn, false);
}

Status Service::cancel_image(const std::string& image_arn) {
  std::lock_guard<std::mutex> lock(impl_->catalog_mutex);
  KILN_TRY(build::cancel_image(*impl_->catalog, image_arn, "Cancelled by CancelImageCreation"));
  std::lock_guard<std::mutex> queue_lock(impl_->mutex);
  if (auto it = impl_->running.find(image_arn); it != impl_->running.end()) {
    it->second->store(true);
  }
  std::erase(impl_->queue, image_arn);
  return ok_status();
}

void Service::pipelines_changed() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->pipelines_dirty = true;
  }
  impl_->scheduler_wake.notify_all();
}

void Service::shutdown() {
  Impl& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    if (d.shut_down) {
      return;
    }
    d.shut_down = true;
    d.accepting_builds = false;
  }
  d.scheduler_wake.notify_all();
  if (d.scheduler.joinable()) {
    d.scheduler.join();
  }
  if (d.recovery_thread.joinable()) {
    d.recovery_thread.join();
  }
  // Running builds get the grace period; queued ones stay PENDING for the next start.
  {
    std::unique_lock<std::mutex> lock(d.mutex);
    d.stopping_queue = true;
    d.work.notify_all();
    d.idle_changed.wait_for(lock, d.options.shutdown_grace, [&d] { return d.running.empty(); });
    for (auto& [arn, flag] : d.running) {
      KILN_LOG(kWarning, "shutdown: cancelling the build of {}", arn);
      flag->store(true);
    }
    d.stopping = true;
  }
  d.work.notify_all();
  for (std::thread& t : d.workers) {
    if (t.joinable()) {
      t.join();
    }
  }
  d.notifier.reset();  // delivers what is queued, within its drain time
}

bool Service::idle() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->queue.empty() && impl_->running.empty();
}

}  // namespace kiln::service
