// Recovery of builds whose builder died: see recovery.hpp.

#include "kiln/build/recovery.hpp"

#include <unistd.h>

#include "kiln/base/log.hpp"
#include "kiln/distribute/local_region.hpp"
#include "kiln/os/namespace.hpp"

namespace kiln::build {
namespace fs = std::filesystem;

using state::ImageStatus;

namespace {

std::string status_of(const Json& image) {
  return image.value("state", Json::object()).value("status", "");
}

// The regions the image's distribution configuration names, with their store folders.
std::vector<distribute::RegionTarget> regions_of(const RecoveryEnvironment& env,
                                                 const Json& image) {
  std::vector<distribute::RegionTarget> targets;
  const Json& distribution = image.value("distributionConfiguration", Json::object());
  for (const Json& d : distribution.value("distributions", Json::array())) {
    distribute::RegionTarget target;
    target.region = d.value("region", "");
    if (Result<fs::path> store = env.catalog->region_store(target.region, env.root / "regions")) {
      target.store = *store;
      targets.push_back(std::move(target));
    }
  }
  return targets;
}

// The snapshot the build made (incomplete in the store), with the copies in its regions.
void remove_outputs(const RecoveryEnvironment& env, const Json& image, const std::string& arn) {
  Result<catalog::ImageBuilderArn> parsed = catalog::ImageBuilderArn::parse(arn);
  if (!parsed || !parsed->version || !parsed->build || env.images == nullptr) {
    return;
  }
  Result<std::vector<store::ImageVersion>> all = env.images->store().list(std::nullopt, true);
  if (!all) {
    KILN_LOG(kWarning, "recovery of {}: reading the store: {}", arn, all.error().message);
    return;
  }
  for (const store::ImageVersion& version : *all) {
    if (version.arn != arn) {
      continue;
    }
    if (Result<std::vector<std::string>> removed =
            distribute::remove_from_regions(version, regions_of(env, image));
        !removed) {
      KILN_LOG(kWarning, "recovery of {}: {}", arn, removed.error().message);
    }
    Result<catalog::ImageReference> ref = catalog::ImageReference::parse(version.str());
    if (ref) {
      (void)env.images->store().remove_image(*ref);
    }
  }
}

// Claims the image for this process if `dead` is still its builder and it is still `status`:
// true when this process won it.
Result<bool> claim(state::Catalog& catalog,
                   const std::string& arn,
                   const std::string& status,
                   const Builder& dead) {
  bool won = false;
  Builder me = this_process();
  KILN_TRY(catalog.update_image(arn, [&](Json& stored) {
    if (status_of(stored) != status || builder_of(stored) != dead) {
      return;  // another process claimed it first, or the build moved on
    }
    stored["kiln"]["builder"] = builder_json(me);
    stored["kiln"]["recoveredBuilder"] = builder_json(dead);
    won = true;
  }));
  return won;
}

}  // namespace

Builder builder_of(const Json& image) {
  Json builder = image.value("kiln", Json::object()).value("builder", Json::object());
  Builder b;
  if (builder.is_object()) {
    Json pid = builder.value("pid", Json(0));
    Json start = builder.value("startTime", Json(0));
    if (pid.is_number_integer() && start.is_number_unsigned()) {
      b.pid = pid.get<pid_t>();
      b.start_time = start.get<unsigned long long>();
    } else if (pid.is_number_integer()) {
      b.pid = pid.get<pid_t>();
    }
  }
  return b;
}

Json builder_json(const Builder& builder) {
  return Json{{"pid", builder.pid}, {"startTime", builder.start_time}};
}

Builder this_process() {
  return Builder{::getpid(), os::process_start_time(::getpid()).value_or(0)};
}

bool builder_alive(const Builder& builder) {
  if (builder.pid <= 0 || builder.pid == ::getpid()) {
    return false;
  }
  return os::process_alive(builder.pid, builder.start_time);
}

RecoveryAction recovery_action(const Json& image,
                               bool daemon,
                               const std::function<bool(const Builder&)>& alive) {
  std::optional<ImageStatus> status = state::parse_image_status(status_of(image));
  if (!status || state::is_terminal(*status)) {
    return RecoveryAction::kLeave;
  }
  if (*status == ImageStatus::kPending && !image.contains("kiln")) {
    return daemon ? RecoveryAction::kRequeue : RecoveryAction::kLeave;
  }
  Builder builder = builder_of(image);
  if (builder.pid > 0 && alive(builder)) {
    return RecoveryAction::kLeave;
  }
  return RecoveryAction::kFail;
}

Result<std::vector<Json>> unfinished_images(state::Catalog& catalog) {
  return catalog.images_with_status({ImageStatus::kPending,
                                     ImageStatus::kCreating,
                                     ImageStatus::kBuilding,
                                     ImageStatus::kTesting,
                                     ImageStatus::kDistributing,
                                     ImageStatus::kIntegrating});
}

std::vector<std::string> reap_orphan_instances(instance::Instances& instances) {
  std::vector<std::string> reaped;
  Result<std::vector<instance::InstanceRecord>> all = instances.list();
  if (!all) {
    return reaped;
  }
  for (const instance::InstanceRecord& record : *all) {
    if (!record.owner_gone()) {
      continue;
    }
    if (Status done = instances.terminate(record.id);
        done || done.error().code == ErrorCode::kNotFound) {
      reaped.push_back(record.id);
    } else {
      KILN_LOG(kWarning, "recovery: terminating instance {}: {}", record.id, done.error().message);
    }
  }
  return reaped;
}

Result<RecoveryReport> recover_builds(const RecoveryEnvironment& env,
                                      const std::vector<Json>& images,
                                      bool daemon,
                                      const std::function<void(const Json&)>& on_failed) {
  RecoveryReport report;
  instance::Instances instances(env.root, env.helpers);
  std::optional<std::vector<instance::InstanceRecord>> records;
  for (const Json& image : images) {
    std::string arn = image.value("arn", "");
    std::string status = status_of(image);
    RecoveryAction action = recovery_action(image, daemon, builder_alive);
    if (action == RecoveryAction::kRequeue) {
      report.requeued.push_back(arn);
      continue;
    }
    if (action != RecoveryAction::kFail) {
      continue;
    }
    Builder dead = builder_of(image);
    Result<bool> won = claim(*env.catalog, arn, status, dead);
    if (!won || !*won) {
      continue;  // another process recovers it (or the catalog said no: the next command tries)
    }
    // Its instances: those the catalog lists, and any it launched but had not yet recorded.
    std::vector<std::string> ids;
    for (const Json& entry :
         image.value("kiln", Json::object()).value("instances", Json::array())) {
      if (std::string id = entry.value("instanceId", ""); !id.empty()) {
        ids.push_back(id);
      }
    }
    if (!records) {
      records = instances.list().value_or(std::vector<instance::InstanceRecord>{});
    }
    for (const instance::InstanceRecord& record : *records) {
      if (record.die_with_owner && record.owner_tag == arn &&
          std::find(ids.begin(), ids.end(), record.id) == ids.end()) {
        ids.push_back(record.id);
      }
    }
    for (const std::string& id : ids) {
      if (Status done = instances.terminate(id);
          done || done.error().code == ErrorCode::kNotFound) {
        report.reaped_instances.push_back(id);
      } else {
        KILN_LOG(kWarning, "recovery: terminating instance {}: {}", id, done.error().message);
      }
    }
    // A snapshot made before the interruption is not an image anyone was given.
    remove_outputs(env, image, arn);
    std::string reason = fmt::format(
        "the build was interrupted: its builder (process {}) ended while the image was {}; its "
        "instances were terminated",
        dead.pid,
        status);
    Result<Json> failed = env.catalog->set_image_status(arn, ImageStatus::kFailed, reason);
    if (!failed) {
      KILN_LOG(kWarning, "recovery of {}: {}", arn, failed.error().message);
      continue;
    }
    report.failed.push_back(arn);
    if (on_failed) {
      on_failed(*failed);
    }
  }
  for (std::string& id : reap_orphan_instances(instances)) {
    report.reaped_instances.push_back(std::move(id));
  }
  return report;
}

}  // namespace kiln::build
