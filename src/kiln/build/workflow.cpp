// The build workflow: stages in order, each timed and logged, the image's status kept in the
// catalog, instances always terminated (or kept on failure when asked).

#include "kiln/build/workflow.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kiln/base/beneath.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/scope_exit.hpp"
#include "kiln/build/stage.hpp"
#include "kiln/distribute/local_region.hpp"
#include "kiln/instance/disk_size.hpp"
#include "kiln/os/disk.hpp"
#include "kiln/os/namespace.hpp"
#include "kiln/state/log_location.hpp"

namespace kiln::build {
namespace {

using state::ImageStatus;
using SteadyClock = std::chrono::steady_clock;

// A stage failed: why, and the instance to keep when terminateInstanceOnFailure is false.
struct Failure {
  std::string reason;
  bool cancelled = false;
};

class Build {
 public:
  Build(BuildEnvironment& env, std::string arn, std::atomic<bool>* cancel, const EventSink& events)
      : env_(env), arn_(std::move(arn)), cancel_(cancel), events_(events) {}

  Result<BuildOutcome> run();

 private:
  // Each returns a Failure to end the build with, or nothing to go on.
  std::optional<Failure> prepare();
  std::optional<Failure> build_stage();
  std::optional<Failure> test_stage();
  std::optional<Failure> distribute_stage();

  Result<std::string> launch(const store::ImageVersion& image, const std::string& role);
  void finish_instance(const std::string& id, bool failed);
  void remove_instance_mount_points(const std::string& id);
  std::optional<Failure> with_disk_note(std::optional<Failure> failure, const std::string& id);
  void discard_output();
  Status open_log_folder();
  Status set_status(ImageStatus status, const std::string& reason = {});

  void emit(Event event);
  void note(const std::string& text);
  void begin_stage(const std::string& name);
  void end_stage();
  bool cancelled() const { return cancel_ != nullptr && cancel_->load(); }
  std::optional<Failure> fail(const std::string& reason) { return Failure{reason, false}; }
  std::optional<Failure> from_error(const Error& error, std::string_view doing) {
    if (error.code == ErrorCode::kCancelled || cancelled()) {
      return Failure{"", true};
    }
    return Failure{fmt::format("{}: {}", doing, error.message), false};
  }

  BuildEnvironment& env_;
  std::string arn_;
  std::atomic<bool>* cancel_;
  const EventSink& events_;
  SteadyClock::time_point begun_ = SteadyClock::now();

  Json image_;
  std::string name_;
  catalog::SemanticVersion version_;
  uint32_t build_number_ = 0;
  fs::path log_folder_;
  UniqueFd build_log_;  // <log folder>/build.log, opened once without following a link
  std::string working_directory_ = "/tmp";
  std::string instance_type_;
  instance::Network network_ = instance::Network::kPrivate;
  bool keep_on_failure_ = false;
  std::vector<BuildComponent> components_;
  std::optional<store::ImageVersion> parent_;
  std::optional<store::ImageVersion> output_;
  std::string instance_;  // the instance of the current stage, "" when none
  std::string kept_instance_;
  std::vector<distribute::RegionTarget> regions_;  // where the image is being distributed

  std::string stage_;
  SteadyClock::time_point stage_begun_;
  Json stages_ = Json::array();
};

void Build::emit(Event event) {
  event.elapsed = std::chrono::duration<double>(SteadyClock::now() - begun_).count();
  if (event.stage.empty()) {
    event.stage = stage_;
  }
  if (build_log_.valid() && event.kind != Event::Kind::kOutput) {
    std::string line;
    switch (event.kind) {
      case Event::Kind::kStatus:
        line = "status " + event.status + (event.reason.empty() ? "" : ": " + event.reason);
        break;
      case Event::Kind::kStage:
        line = "stage " + event.stage;
        break;
      case Event::Kind::kStep:
        line = fmt::format("{} {} {} {}",
                           event.component,
                           event.phase,
                           event.step,
                           event.step_status.empty() ? "started" : event.step_status);
        break;
      default:
        line = event.text;
    }
    std::string text = fmt::format("{} [{:8.2f}s] {}\n",
                                   format_log_time_utc(std::chrono::system_clock::now()),
                                   event.elapsed,
                                   line);
    // O_APPEND: one write per line, so lines of a build never interleave mid-line.
    (void)!::write(build_log_.get(), text.data(), text.size());
  }
  if (events_) {
    events_(event);
  }
}

void Build::note(const std::string& text) {
  Event event;
  event.kind = Event::Kind::kNote;
  event.text = text;
  emit(std::move(event));
}

void Build::begin_stage(const std::string& name) {
  end_stage();
  stage_ = name;
  stage_begun_ = SteadyClock::now();
  Event event;
  event.kind = Event::Kind::kStage;
  event.stage = name;
  emit(std::move(event));
}

void Build::end_stage() {
  if (stage_.empty()) {
    return;
  }
  double seconds = std::chrono::duration<double>(SteadyClock::now() - stage_begun_).count();
  stages_.push_back(Json{{"name", stage_}, {"seconds", std::round(seconds * 1000) / 1000}});
  note(fmt::format("{} took {:.2f} s", stage_, seconds));
  stage_.clear();
}

// Logs: <log folder>/<image name>/<version>/<build>/, where the log folder is the infrastructure
// configuration's local folder (in the log root), else the log root itself (S3 destinations are
// uploaded from there by the daemon). Checked again here, not only when the configuration was
// stored, and made from the log root down without following a symbolic link.
Status Build::open_log_folder() {
  Result<catalog::ImageBuilderArn> parsed = catalog::ImageBuilderArn::parse(arn_);
  if (!parsed || !parsed->version || !parsed->build) {
    return make_error(ErrorCode::kInvalidArgument, "{} is not an image build version ARN", arn_);
  }
  const fs::path& root = env_.catalog->log_root();
  fs::path relative;
  if (std::optional<std::string> local =
          state::local_log_folder(image_.value("infrastructureConfiguration", Json::object()))) {
    relative = KILN_TRY_CTX(state::log_folder_in_root(*local, root), "the log folder");
  }
  relative /= parsed->name;
  relative /= parsed->version->str();
  relative /= std::to_string(*parsed->build);
  std::error_code ec;
  fs::create_directories(root, ec);  // the operator's folder
  if (ec) {
    return make_error(ErrorCode::kIo, "creating the log root {}: {}", root.string(), ec.message());
  }
  UniqueFd root_fd = KILN_TRY(open_directory(root));
  UniqueFd folder =
      KILN_TRY_CTX(make_directories_beneath(root_fd.get(), relative), "the log folder");
  KILN_TRY_CTX(make_directories_beneath(folder.get(), "documents"), "the log folder");
  int fd = ::openat(folder.get(),
                    "build.log",
                    O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                    0644);
  if (fd < 0) {
    return errno_error(errno, "opening build.log in " + (root / relative).string());
  }
  build_log_.reset(fd);
  log_folder_ = root / relative;
  return ok_status();
}

Status Build::set_status(ImageStatus status, const std::string& reason) {
  end_stage();
  Result<Json> updated = env_.catalog->set_image_status(arn_, status, reason);
  if (!updated) {
    return updated.error();
  }
  image_ = *updated;
  Event event;
  event.kind = Event::Kind::kStatus;
  event.status = std::string(state::image_status_name(status));
  event.reason = reason;
  emit(std::move(event));
  return ok_status();
}

std::optional<Failure> Build::prepare() {
  const Json& recipe = image_["imageRecipe"];
  name_ = image_.value("name", "");
  Result<catalog::SemanticVersion> version =
      catalog::SemanticVersion::parse(image_.value("version", ""));
  Result<catalog::ImageBuilderArn> arn = catalog::ImageBuilderArn::parse(arn_);
  if (!version || !arn || !arn->build) {
    return fail("the image's ARN or version is malformed: " + arn_);
  }
  version_ = *version;
  build_number_ = *arn->build;
  working_directory_ = recipe.value("workingDirectory", "/tmp");
  if (working_directory_.empty()) {
    working_directory_ = "/tmp";
  }
  const Json& infra = image_["infrastructureConfiguration"];
  if (infra.contains("instanceTypes") && infra["instanceTypes"].is_array() &&
      !infra["instanceTypes"].empty()) {
    instance_type_ = infra["instanceTypes"][0].get<std::string>();
  }
  // A private network unless the configuration names another (validated when it was created).
  network_ = instance::network_from_name(infra.value("networkMode", "private"))
                 .value_or(instance::Network::kPrivate);
  keep_on_failure_ = !infra.value("terminateInstanceOnFailure", true);

  // The components, resolved now (wildcards pick the newest build at build time, as AWS does),
  // written to the documents folder the instances see read-only.
  size_t index = 0;
  for (const Json& entry : recipe.value("components", Json::array())) {
    std::string wanted = entry.value("componentArn", "");
    Result<Json> component = env_.catalog->get_component(wanted);
    if (!component) {
      return fail(fmt::format("component {}: {}", wanted, component.error().message));
    }
    BuildComponent c;
    c.arn = component->value("arn", wanted);
    c.data = component->value("data", "");
    c.parameters = entry.value("parameters", Json::array());
    c.phases = document_phases(c.data);
    c.file = fmt::format("{:02}-{}.yaml", ++index, component->value("name", "component"));
    if (Status written = write_file(log_folder_ / "documents" / c.file, c.data); !written) {
      return from_error(written.error(), "writing the component documents");
    }
    components_.push_back(std::move(c));
  }
  Result<store::ImageVersion> parent = resolve_parent(
      *env_.images, env_.root, recipe.value("parentImage", ""), [this](const std::string& t) {
        note(t);
      });
  if (!parent) {
    return from_error(parent.error(), "parent image");
  }
  parent_ = *parent;
  note(fmt::format("parent image {} ({})", parent_->str(), parent_->manifest.digest.str()));
  // What the recipe resolved to: a pipeline's "dependency updates" check compares a later
  // resolution with this.
  Json resolved = Json::array();
  for (const BuildComponent& c : components_) {
    resolved.push_back(c.arn);
  }
  (void)env_.catalog->update_image(arn_, [&](Json& stored) {
    stored["kiln"]["resolvedComponents"] = resolved;
    stored["kiln"]["parentImage"] =
        Json{{"ref", parent_->str()}, {"digest", parent_->manifest.digest.str()}};
  });
  return std::nullopt;
}

Result<std::string> Build::launch(const store::ImageVersion& image, const std::string& role) {
  std::vector<fs::path> lower = KILN_TRY(env_.images->lower_dirs(image));
  instance::LaunchRequest request;
  request.image = image.arn;
  request.image_digest = image.manifest.digest.str();
  request.lower = std::move(lower);
  request.network = network_;
  request.instance_type = instance_type_;
  // The root volume's size from the recipe, as AWS sizes the instance's EBS volume.
  request.disk_size = KILN_TRY(instance::root_volume_size(
      image_["imageRecipe"].value("blockDeviceMappings", Json::array())));
  // The instance dies with this process; recovery finds what is left by the image's ARN.
  request.die_with_owner = true;
  request.owner_tag = arn_;
  const std::string kiln_dir(kInstanceKilnDir);
  request.binds = {
      {env_.toe.launcher, kiln_dir + "/toe/bin/kiln-toe", true},
      {env_.toe.libexec, kiln_dir + "/toe/libexec/kiln", true},
      {log_folder_ / "documents", kiln_dir + "/documents", true},
      {env_.share_dir / "sanitize.sh", kiln_dir + "/sanitize.sh", true},
  };
  // The one writable folder kiln gives an instance is the instance's own: the log folder stays
  // the host's, and what kiln-toe writes is copied out of the exchange without following links.
  request.exchange_target = kiln_dir + "/logs";
  instance::Instances instances(env_.root, env_.helpers);
  instance::InstanceRecord record = KILN_TRY(instances.launch(request));
  instance_ = record.id;
  // The catalog knows the build's instances, so that a crashed build's can be found and reaped.
  (void)env_.catalog->update_image(arn_, [&](Json& stored) {
    stored["kiln"]["instances"].push_back(Json{{"role", role}, {"instanceId", record.id}});
  });
  note(fmt::format("{} instance {} launched from {}", role, record.id, image.str()));
  return record.id;
}

void Build::finish_instance(const std::string& id, bool failed) {
  if (id.empty()) {
    return;
  }
  instance::Instances instances(env_.root, env_.helpers);
  if (failed && keep_on_failure_ && !cancelled()) {
    kept_instance_ = id;
    // Tied to this build so far (it dies with the builder); kept, it must outlive it.
    if (Status released = instances.release(id); !released) {
      note(fmt::format("keeping instance {} failed: {}", id, released.error().message));
    }
    note(
        fmt::format("instance {} kept for debugging (terminateInstanceOnFailure: false): enter "
                    "it with `kiln instance shell {}`, remove it with `kiln instance terminate {}`",
                    id,
                    id,
                    id));
  } else if (Status done = instances.terminate(id); !done) {
    note(fmt::format("terminating instance {} failed: {}", id, done.error().message));
  }
  if (instance_ == id) {
    instance_.clear();
  }
}

// The mount points bwrap made in the writable layer for what kiln bound in, and what the build
// left in /tmp (a fresh machine starts with an empty /tmp), are not part of the image.
// The instance wrote the upper folder: a name in it may be a symbolic link to anywhere on the
// host (a /tmp replaced by a link to /etc), so everything here goes through descriptors and never
// follows a link.
void Build::remove_instance_mount_points(const std::string& id) {
  instance::Instances instances(env_.root, env_.helpers);
  Result<fs::path> found = instances.upper(id);
  if (!found) {
    return;  // the snapshot that follows reports it
  }
  Result<UniqueFd> upper = open_directory(*found);
  if (!upper) {
    note("cleaning the writable layer: " + upper.error().message);
    return;
  }
  if (Status removed = remove_beneath(upper->get(), std::string(kInstanceKilnDir).substr(1));
      !removed) {
    note("cleaning the writable layer: " + removed.error().message);
  }
  // /tmp: emptied when it is a folder; a link there is the image's own business, not followed.
  if (Status emptied = remove_contents_beneath(upper->get(), "tmp");
      !emptied && emptied.error().code != ErrorCode::kNotFound) {
    note("cleaning /tmp of the writable layer: " + emptied.error().message);
  }
}

// A step that failed because the instance's disk filled gets the reason said outright, with the
// setting that gives more.
std::optional<Failure> Build::with_disk_note(std::optional<Failure> failure,
                                             const std::string& id) {
  if (!failure || failure->cancelled) {
    return failure;
  }
  instance::Instances instances(env_.root, env_.helpers);
  Result<os::DiskUsage> usage = instances.disk_usage(id);
  if (usage && usage->full()) {
    failure->reason += fmt::format(
        "; the instance's disk is full (limit {}{}; set blockDeviceMappings[].ebs.volumeSize "
        "(GiB) of /dev/xvda in the recipe for more)",
        os::format_bytes(usage->size),
        usage->available >= (uint64_t{1} << 20) ? ", no inode left" : "");
  }
  return failure;
}

void Build::discard_output() {
  if (!output_) {
    return;
  }
  if (Result<std::vector<std::string>> removed =
          distribute::remove_from_regions(*output_, regions_)) {
    for (const std::string& region : *removed) {
      note(fmt::format("{} removed from the region {}", output_->str(), region));
    }
  } else {
    note("taking the image back out of the regions failed: " + removed.error().message);
  }
  Result<catalog::ImageReference> ref = catalog::ImageReference::parse(output_->str());
  if (ref) {
    if (Result<store::ImageVersion> removed = env_.images->store().remove_image(*ref); !removed) {
      note(fmt::format(
          "removing the snapshot {} failed: {}", output_->str(), removed.error().message));
    }
  }
  output_.reset();
}

std::optional<Failure> Build::build_stage() {
  begin_stage("launch");
  Result<std::string> id = launch(*parent_, "build");
  if (!id) {
    return from_error(id.error(), "launching the build instance");
  }
  begin_stage("build");
  instance::Instances instances(env_.root, env_.helpers);
  ToeStage stage{"build", {"build", "validate"}, log_folder_, true, instances.exchange(*id)};
  Result<ToeStageResult> ran = run_toe_stage(
      instances, *id, stage, components_, cancel_, [this](Event e) { emit(std::move(e)); });
  if (!ran) {
    return with_disk_note(from_error(ran.error(), "running the build components"), *id);
  }
  if (ran->cancelled) {
    return Failure{"", true};
  }
  if (!ran->ok) {
    return with_disk_note(fail(ran->reason), *id);
  }

  begin_stage("sanitize");
  Result<os::ProcessResult> sanitized =
      instances.run(*id,
                    {"/bin/sh", std::string(kInstanceKilnDir) + "/sanitize.sh", working_directory_},
                    std::nullopt,
                    cancel_,
                    [this](os::OutputStream, std::string_view text) {
                      Event event;
                      event.kind = Event::Kind::kOutput;
                      event.text = std::string(text);
                      emit(std::move(event));
                    });
  if (!sanitized) {
    return from_error(sanitized.error(), "sanitizing the build instance");
  }
  if (sanitized->cancelled) {
    return Failure{"", true};
  }
  if (sanitized->exit_code != 0 || sanitized->signal != 0) {
    return with_disk_note(
        fail(fmt::format("sanitizing the build instance failed (exit code {}): {}",
                         sanitized->exit_code,
                         tail_lines(sanitized->stderr_text + sanitized->stdout_text, 10))),
        *id);
  }

  begin_stage("snapshot");
  if (Status stopped = instances.stop(*id); !stopped) {
    return from_error(stopped.error(), "stopping the build instance");
  }
  remove_instance_mount_points(*id);
  const state::Account& account = env_.catalog->account();
  image::ImageName name{name_, version_, build_number_, account.region, account.account_id};
  Result<fs::path> upper = instances.upper(*id);
  if (!upper) {
    return from_error(upper.error(), "snapshot of the build instance");
  }
  // Incomplete until the build ends well: neither listed nor resolved while it is tested and
  // distributed, and removed if the build fails or is interrupted.
  Result<store::ImageVersion> made =
      env_.images->snapshot(*upper, *parent_, name, "kiln build " + arn_, true);
  if (!made) {
    return from_error(made.error(), "snapshot of the build instance");
  }
  output_ = *made;
  note(fmt::format("image {} ({})", made->str(), made->manifest.digest.str()));
  finish_instance(*id, false);
  return std::nullopt;
}

std::optional<Failure> Build::test_stage() {
  const Json& tests = image_.value("imageTestsConfiguration", Json::object());
  if (!tests.value("imageTestsEnabled", true)) {
    note("tests skipped: imageTestsEnabled is false");
    return std::nullopt;
  }
  bool any = std::any_of(components_.begin(), components_.end(), [](const BuildComponent& c) {
    return c.has_phase("test");
  });
  if (!any) {
    note("no component has a test phase");
    return std::nullopt;
  }
  if (Status s = set_status(ImageStatus::kTesting); !s) {
    return fail(s.error().message);
  }
  begin_stage("launch-test");
  Result<std::string> id = launch(*output_, "test");
  if (!id) {
    return from_error(id.error(), "launching the test instance");
  }
  begin_stage("test");
  instance::Instances instances(env_.root, env_.helpers);
  ToeStage stage{"test", {"test"}, log_folder_, true, instances.exchange(*id)};
  Result<ToeStageResult> ran = run_toe_stage(
      instances, *id, stage, components_, cancel_, [this](Event e) { emit(std::move(e)); });
  if (!ran) {
    return with_disk_note(from_error(ran.error(), "running the test components"), *id);
  }
  if (ran->cancelled) {
    return Failure{"", true};
  }
  if (!ran->ok) {
    return with_disk_note(fail(ran->reason), *id);
  }
  finish_instance(*id, false);
  return std::nullopt;
}

std::optional<Failure> Build::distribute_stage() {
  const state::Account& account = env_.catalog->account();
  Json amis = Json::array();
  amis.push_back(Json{{"region", account.region},
                      {"image", output_->manifest.digest.str()},
                      {"name", output_->str()},
                      {"accountId", account.account_id}});
  const Json& distribution = image_.value("distributionConfiguration", Json::object());
  const Json& list = distribution.value("distributions", Json::array());
  if (!list.empty()) {
    if (Status s = set_status(ImageStatus::kDistributing); !s) {
      return fail(s.error().message);
    }
    begin_stage("distribute");
    std::vector<distribute::RegionTarget> targets;
    SystemTime build_date = std::chrono::system_clock::now();
    for (const Json& d : list) {
      distribute::RegionTarget target;
      target.region = d.value("region", "");
      Result<fs::path> store = env_.catalog->region_store(target.region, env_.root / "regions");
      if (!store) {
        return from_error(store.error(), "region " + target.region);
      }
      target.store = *store;
      target.account_id = account.account_id;
      const Json& ami = d.value("amiDistributionConfiguration", Json::object());
      Result<std::string> output_name =
          distribute::expand_output_name(ami.value("name", ""), build_date, build_number_);
      if (!output_name) {
        return from_error(output_name.error(), "distribution to " + target.region);
      }
      target.output_name = *output_name;
      target.description = ami.value("description", "");
      Json tags = ami.value("amiTags", Json::object());
      for (const auto& [key, value] : tags.items()) {
        target.tags[key] = value.is_string() ? value.get<std::string>() : value.dump();
      }
      targets.push_back(std::move(target));
    }
    regions_ = targets;  // taken back out of every region if the build fails from here on
    Result<std::vector<distribute::RegionOutput>> copied =
        distribute::copy_to_regions(env_.images->store(), *output_, targets, cancel_);
    if (!copied) {
      return from_error(copied.error(), "distribution");
    }
    for (size_t i = 0; i < copied->size(); ++i) {
      const distribute::RegionOutput& out = (*copied)[i];
      note(fmt::format("distributed to {}: {} blobs copied ({} bytes), {} already there",
                       out.region,
                       out.blobs_copied,
                       out.bytes_copied,
                       out.blobs_present));
      Json ami{{"region", out.region},
               {"image", out.manifest_digest},
               {"name", out.output_name.empty() ? output_->str() : out.output_name},
               {"accountId", account.account_id}};
      if (!targets[i].description.empty()) {
        ami["description"] = targets[i].description;
      }
      amis.push_back(std::move(ami));
    }
  }
  Result<Json> updated = env_.catalog->update_image(
      arn_, [&](Json& image) { image["outputResources"]["amis"] = amis; });
  if (!updated) {
    return fail(updated.error().message);
  }
  return std::nullopt;
}

Result<BuildOutcome> Build::run() {
  image_ = KILN_TRY(env_.catalog->get_image(arn_));
  if (Status opened = open_log_folder(); !opened) {
    // A configuration stored before log folders were confined (or a root that moved) names a
    // folder outside the log root: the build fails with the reason, nothing is created.
    KILN_TRY(set_status(ImageStatus::kFailed, opened.error().message));
    BuildOutcome outcome;
    outcome.status = ImageStatus::kFailed;
    outcome.reason = opened.error().message;
    outcome.image = KILN_TRY(env_.catalog->get_image(arn_));
    return outcome;
  }
  // Who builds it: a daemon restarted later leaves a build whose process still runs alone.
  Json builder{{"pid", ::getpid()}, {"startTime", os::process_start_time(::getpid()).value_or(0)}};
  KILN_TRY(env_.catalog->update_image(arn_, [&](Json& image) {
    image["kiln"] = Json{
        {"logLocation", log_folder_.string()}, {"instances", Json::array()}, {"builder", builder}};
  }));
  KILN_TRY(set_status(ImageStatus::kBuilding));

  std::optional<Failure> failure = prepare();
  if (!failure) {
    failure = build_stage();
  }
  if (!failure && cancelled()) {
    failure = Failure{"", true};
  }
  if (!failure) {
    failure = test_stage();
  }
  if (!failure && cancelled()) {
    failure = Failure{"", true};
  }
  if (!failure) {
    failure = distribute_stage();
  }
  if (!failure && output_) {
    // From here on the image is offered: listed, resolved by wildcards, a parent.
    if (Status completed = env_.images->store().mark_complete(
            KILN_TRY(catalog::ImageReference::parse(output_->str())));
        !completed) {
      failure = from_error(completed.error(), "recording the image in the store");
    }
  }
  if (failure) {
    finish_instance(instance_, !failure->cancelled);
    // A build that failed or was cancelled made no image (its image has no output): the
    // snapshot and the copies in the regions it reached are removed.
    discard_output();
  }
  end_stage();

  BuildOutcome outcome;
  outcome.log_folder = log_folder_;
  outcome.kept_instance = kept_instance_;
  KILN_TRY(env_.catalog->update_image(arn_, [&](Json& image) {
    image["kiln"]["stages"] = stages_;
    image["kiln"]["seconds"] =
        std::round(std::chrono::duration<double>(SteadyClock::now() - begun_).count() * 1000) /
        1000;
    if (!kept_instance_.empty()) {
      image["kiln"]["keptInstance"] = kept_instance_;
    }
  }));
  if (!failure) {
    outcome.status = ImageStatus::kAvailable;
  } else if (failure->cancelled) {
    outcome.status = ImageStatus::kCancelled;
    outcome.reason = "the build was cancelled";
  } else {
    outcome.status = ImageStatus::kFailed;
    outcome.reason = failure->reason;
  }
  Json current = KILN_TRY(env_.catalog->get_image(arn_));
  std::string now = current["state"].value("status", "");
  if (now != state::image_status_name(outcome.status)) {
    if (Status s = set_status(outcome.status, outcome.reason); !s) {
      // Cancelled from elsewhere while finishing: the cancel stands.
      if (now != "CANCELLED") {
        return s.error();
      }
      outcome.status = ImageStatus::kCancelled;
      discard_output();
    }
  }
  outcome.image = KILN_TRY(env_.catalog->get_image(arn_));
  return outcome;
}

// Sets *cancel when another process marks the image CANCELLED (kiln cancel-image-creation),
// looking twice a second; it stops at once when the build ends.
class CancelWatcher {
 public:
  CancelWatcher(const fs::path& state_file,
                state::Account account,
                std::string arn,
                std::atomic<bool>* cancel)
      : thread_([=, this] {
          SystemClock clock;
          Result<std::unique_ptr<state::Catalog>> catalog =
              state::Catalog::open(state_file, account, clock);
          std::unique_lock<std::mutex> lock(mutex_);
          while (catalog && !stopped_) {
            lock.unlock();
            Result<Json> image = (*catalog)->get_image(arn);
            if (image && (*image)["state"].value("status", "") == "CANCELLED") {
              cancel->store(true);
              return;
            }
            lock.lock();
            wake_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopped_; });
          }
        }) {}
  ~CancelWatcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;  // last: it uses the members above
};

}  // namespace

uint32_t first_free_build(const store::ImageStore& store,
                          const std::string& name,
                          const std::string& version) {
  uint32_t next = 1;
  // A store name and an ARN name are the same image when their ARN forms match ("Web" and
  // "web").
  if (Result<std::vector<store::ImageVersion>> list = store.list(std::nullopt, true)) {
    for (const store::ImageVersion& image : *list) {
      if (catalog::arn_name(image.name) == catalog::arn_name(name) &&
          image.version.str() == version) {
        next = std::max(next, image.build + 1);
      }
    }
  }
  return next;
}

uint32_t first_free_build_of_recipe(const store::ImageStore& store,
                                    state::Catalog& catalog,
                                    const std::string& recipe_arn) {
  Result<Json> recipe = catalog.get_image_recipe(recipe_arn);
  if (!recipe) {
    return 1;
  }
  return first_free_build(store, recipe->value("name", ""), recipe->value("version", ""));
}

Status cancel_image(state::Catalog& catalog,
                    const std::string& image_arn,
                    const std::string& reason) {
  Json image = KILN_TRY(catalog.get_image(image_arn));
  std::string status = image.value("state", Json::object()).value("status", "");
  std::optional<state::ImageStatus> parsed = state::parse_image_status(status);
  if (parsed && state::is_terminal(*parsed)) {
    return make_error(ErrorCode::kConflict,
                      "the image {} is {}: only an image still being built can be cancelled",
                      image_arn,
                      status);
  }
  KILN_TRY(catalog.set_image_status(image_arn, state::ImageStatus::kCancelled, reason));
  return ok_status();
}

Result<BuildOutcome> run_build(BuildEnvironment& env,
                               const std::string& image_arn,
                               std::atomic<bool>* cancel,
                               const EventSink& events) {
  std::atomic<bool> local_cancel{false};
  if (cancel == nullptr) {
    cancel = &local_cancel;
  }
  CancelWatcher watcher(env.root / "state.db", env.catalog->account(), image_arn, cancel);
  Build build(env, image_arn, cancel, events);
  return build.run();
}

}  // namespace kiln::build
