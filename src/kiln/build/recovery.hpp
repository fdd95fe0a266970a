#pragma once

// Recovery of builds whose builder died (docs/build.md, "When a build dies"). A build records
// who runs it in the image's kiln.builder (pid and the process's start time, so that a reused
// pid is told apart); an image that is not final and whose builder no longer runs was
// interrupted: its instances are terminated, its snapshot (and the copies in the regions it
// reached) removed, and it becomes FAILED. Every kiln command that opens the state runs this
// (cli/context.cpp), and so does the daemon when it starts (service.cpp), in the background.
//
// Safe to run in several processes at once: a process claims an image by making itself its
// builder in one catalog transaction that first checks the dead builder is still recorded, so
// only one cleans each image, and a process that dies while cleaning leaves an image whose
// builder is dead again. A live builder's image is never touched.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kiln/image/images.hpp"
#include "kiln/instance/instance.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::build {

using Json = nlohmann::ordered_json;

// The process that builds an image (kiln.builder).
struct Builder {
  pid_t pid = 0;
  unsigned long long start_time = 0;
  bool operator==(const Builder&) const = default;
};

// The builder an image records; pid 0 when it records none.
Builder builder_of(const Json& image);
// This process as a builder (kiln.builder's JSON).
Json builder_json(const Builder& builder);
Builder this_process();

enum class RecoveryAction {
  kLeave,    // final, or its builder still runs
  kRequeue,  // PENDING and never started (no kiln member): a daemon builds it now
  kFail,     // interrupted: clean up and FAILED
};

// What recovery does with `image`: pure, given whether a builder runs. The caller's own
// process counts as dead (recovery looks at images before this process builds anything, so
// one naming it was left by an earlier part of this process). PENDING images without a kiln
// member were queued by a daemon and never started: `daemon` queues them again, a command
// leaves them to the daemon.
RecoveryAction recovery_action(const Json& image,
                               bool daemon,
                               const std::function<bool(const Builder&)>& alive);

// Whether `builder` is a running process other than this one (pid and start time).
bool builder_alive(const Builder& builder);

struct RecoveryReport {
  std::vector<std::string> failed;    // builds interrupted mid-way, now FAILED
  std::vector<std::string> requeued;  // PENDING images to queue again (daemon only)
  std::vector<std::string> reaped_instances;
};

struct RecoveryEnvironment {
  std::filesystem::path root;
  state::Catalog* catalog = nullptr;
  image::Images* images = nullptr;
  instance::Helpers helpers;
};

// The images recovery looks at: those not final (one query on the status index).
Result<std::vector<Json>> unfinished_images(state::Catalog& catalog);

// Recovers `images` (from unfinished_images): fails the interrupted ones (calling `on_failed`
// with each as it is now), lists the PENDING ones to queue again when `daemon`, then
// terminates instances tied to an owner that is gone (a build killed while it launched one,
// `kiln component run`). Problems with one image are logged and the others still recovered.
Result<RecoveryReport> recover_builds(const RecoveryEnvironment& env,
                                      const std::vector<Json>& images,
                                      bool daemon,
                                      const std::function<void(const Json&)>& on_failed = {});

// Terminates the instances tied to an owner process that is gone; their ids.
std::vector<std::string> reap_orphan_instances(instance::Instances& instances);

}  // namespace kiln::build
