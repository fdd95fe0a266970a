#pragma once

// One image build, as Image Builder runs it (reference: aws-imagebuilder.md 5), on instances:
//
//   PENDING -> BUILDING: launch a build instance from the parent image with kiln-toe and the
//              component documents bound in read-only; run the build and validate phases;
//              reboot and resume on exit 194; sanitize; stop; snapshot into the new image;
//              terminate the build instance.
//   TESTING: launch a fresh instance from the new image; run the test phases; terminate it.
//   DISTRIBUTING: copy the image to every region of the distribution configuration, in parallel.
//   AVAILABLE, or FAILED with a reason naming the component, phase, step, exit code and the end
//   of the step's error output, or CANCELLED.
//
// Logs go to <log location>/<image name>/<version>/<build>/ (docs/build.md): a folder per stage
// with kiln-toe's output folders, and build.log with every stage's timing.

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "kiln/base/result.hpp"
#include "kiln/image/images.hpp"
#include "kiln/instance/instance.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::build {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// kiln-toe as instances get it: the static launcher and the folder with the real program, its
// loader and its libraries (docs/toe-portable.md), bound in at /.kiln/toe.
struct ToeBundle {
  fs::path launcher;  // <prefix>/bin/kiln-toe
  fs::path libexec;   // <prefix>/libexec/kiln
};

// Finds kiln-toe's bundle: $KILN_TOE_BUNDLE (a prefix), then the prefix this program is installed
// in, then `build_tree_bundle`. kNotFound says where it looked.
Result<ToeBundle> find_toe_bundle(const fs::path& build_tree_bundle);

// Where kiln's data files are (the sanitize script): $KILN_SHARE_DIR, then <prefix>/share/kiln,
// then `source_share` (the source tree's share/).
fs::path find_share_dir(const fs::path& source_share);

// What a build reports as it goes, for progress displays and --json.
struct Event {
  enum class Kind {
    kStatus,  // the image's status changed: `status` (and `reason` when it ended)
    kStage,   // a stage began: `stage` ("launch", "build", "sanitize", "snapshot", "test", ...)
    kStep,    // kiln-toe began or ended a step: `component`, `phase`, `step`, `step_status`
    kOutput,  // a chunk of a step's output: `text` (stderr of kiln-toe's steps)
    kNote,    // a line worth showing: `text`
  };
  Kind kind = Kind::kNote;
  std::string stage;
  std::string status;
  std::string reason;
  std::string component;
  std::string phase;
  std::string step;
  std::string step_status;  // "" when the step began; "success", "failed", ... when it ended
  std::string text;
  double elapsed = 0;  // seconds since the build began
};
using EventSink = std::function<void(const Event&)>;

struct BuildEnvironment {
  fs::path root;  // kiln's root: regions in <root>/regions (logs: catalog->log_root())
  image::Images* images = nullptr;
  instance::Helpers helpers;
  state::Catalog* catalog = nullptr;
  ToeBundle toe;
  fs::path share_dir;  // holds sanitize.sh
};

struct BuildOutcome {
  state::ImageStatus status = state::ImageStatus::kFailed;
  std::string reason;
  std::string kept_instance;  // the instance kept for debugging (terminateInstanceOnFailure false)
  fs::path log_folder;
  Json image;  // the image as the catalog holds it at the end
};

// Runs the build of the image `image_arn` (created by Catalog::create_image, PENDING) to its end.
// *cancel (also set when another process marks the image CANCELLED) stops it at once: its
// instances are terminated and the image is CANCELLED. An error means the build could not be
// recorded at all (the catalog failed); every build failure is an outcome with a reason.
Result<BuildOutcome> run_build(BuildEnvironment& env,
                               const std::string& image_arn,
                               std::atomic<bool>* cancel,
                               const EventSink& events);

// The lowest build number above every build of name/version in `store`: what
// Catalog::create_image takes as min_build, so an image's build number is free in the store too.
uint32_t first_free_build(const store::ImageStore& store,
                          const std::string& name,
                          const std::string& version);
// The same for an image of the recipe `recipe_arn`; 1 when the catalog has no such recipe
// (creating the image then says what is wrong with it).
uint32_t first_free_build_of_recipe(const store::ImageStore& store,
                                    state::Catalog& catalog,
                                    const std::string& recipe_arn);

// CancelImageCreation in the catalog: an image that has not ended becomes CANCELLED with
// `reason` (its builder sees it through its cancel watcher); one that ended is kConflict.
Status cancel_image(state::Catalog& catalog,
                    const std::string& image_arn,
                    const std::string& reason);

// The failure reason of a kiln-toe run from its detailedoutput.json: "Component <arn> failed in
// phase <phase>, step <step>: <the step's failure message>". `components` maps the document
// paths the run saw to component ARNs. Empty when the output names no failed step.
std::string failure_reason(const Json& detailed_output,
                           const std::vector<std::pair<std::string, std::string>>& components);

}  // namespace kiln::build
