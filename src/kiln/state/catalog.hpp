#pragma once

// The catalog: kiln's Image Builder resources (components, image recipes, infrastructure and
// distribution configurations, images) and local regions, kept in one SQLite database
// (<root>/state.db) with a schema version and migrations (docs/formats/state.md).
//
// Resources are JSON objects in AWS's shapes and with AWS's member names (reference:
// aws-imagebuilder.md 3.2-3.8): a create call takes the CreateX request (clientToken and dryRun
// are accepted and ignored here), a get call returns the object GetX returns. Requests are
// checked with AWS's constraints (names, versions, lengths, enums, required members); a bad one is
// kInvalidArgument naming the member, an ARN that names nothing is kNotFound, a second resource
// of the same ARN is kAlreadyExists, deleting what something still uses is kConflict.
//
// A Catalog object is used by one thread at a time; processes share the database (WAL, busy
// timeout), so `kiln build` runs and the daemon can work on one root concurrently.

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/base/time.hpp"
#include "kiln/catalog/arn.hpp"
#include "kiln/catalog/version.hpp"

namespace kiln::state {

using Json = nlohmann::ordered_json;

// Who owns the resources created here and where: the region and account of their ARNs.
struct Account {
  std::string partition = "aws";
  std::string region = "local";
  std::string account_id = "000000000000";

  // $KILN_REGION and $KILN_ACCOUNT_ID (12 digits) over the defaults; kInvalidArgument if bad.
  static Result<Account> from_environment();
};

// The owner of managed components (and their ARNs' account field).
inline constexpr std::string_view kManagedOwner = "aws";

// ImageStatus (reference 3.8).
enum class ImageStatus {
  kPending,
  kCreating,
  kBuilding,
  kTesting,
  kDistributing,
  kIntegrating,
  kAvailable,
  kCancelled,
  kFailed,
  kDeprecated,
  kDeleted,
  kDisabled,
};
std::string_view image_status_name(ImageStatus status);  // "PENDING", ...
std::optional<ImageStatus> parse_image_status(std::string_view name);
// AVAILABLE, CANCELLED, FAILED, DEPRECATED, DELETED, DISABLED: a build that ended.
bool is_terminal(ImageStatus status);
// The build moves forward only: PENDING -> CREATING -> BUILDING -> TESTING -> DISTRIBUTING ->
// INTEGRATING -> AVAILABLE, skipping stages allowed; any non-terminal status -> FAILED or
// CANCELLED; AVAILABLE <-> DEPRECATED/DISABLED, and those -> DELETED.
bool can_transition(ImageStatus from, ImageStatus to);

// What a create call did.
struct Created {
  std::string arn;      // the build version ARN (components, images) or version ARN
  bool created = true;  // false: an identical resource existed and is returned (idempotent)
};

// Selection for list calls: AWS's `owner` (Self, Amazon; Shared/ThirdParty/AWSMarketplace give
// nothing here) and `filters` ([{name, values: [...]}], the filter names AWS allows for the
// call; an unknown one is kInvalidArgument).
struct ListQuery {
  std::string owner = "Self";
  Json filters = Json::array();
};

// The members of the Create request of a resource type (components, image recipes, both
// configuration kinds, images, image pipelines), in AWS's order, clientToken and dryRun excepted;
// kiln's own additions (an infrastructure configuration's networkMode) last. The one list the
// catalog checks requests against and the CLI writes resources back out with.
const std::vector<std::string_view>& create_request_members(catalog::ResourceType type);

class Catalog {
 public:
  // Opens (creating if needed) the database and migrates it to the current schema; a database
  // of a newer schema than this kiln knows is kConflict ("upgrade kiln"). `clock` must outlive
  // the catalog.
  static Result<std::unique_ptr<Catalog>> open(const std::filesystem::path& file,
                                               Account account,
                                               const Clock& clock);
  ~Catalog();

  const Account& account() const;
  int schema_version() const;

  // The operator's log root: the only folder local log folders may be in (log_location.hpp;
  // kiln serve --log-root, $KILN_LOG_ROOT). Until set, "logs" beside the catalog file.
  void set_log_root(const std::filesystem::path& root);
  const std::filesystem::path& log_root() const;

  // --- Components (reference 3.2) --------------------------------------------------------
  // `data` is validated with kiln-toe's validator (every diagnostic in the error); `uri` is
  // refused (kInvalidArgument: give the document as data). `type` is BUILD when the document
  // has a build or validate phase, else TEST. The build number is 1 for a new name/version and
  // 1 + the highest when the same name/version comes again with a changed document; the same
  // document again returns the existing build (created = false).
  Result<Created> create_component(const Json& request);
  // Registers the managed components described by `dir`/managed.json (owner "aws"), with the
  // same auto-versioning: kiln upgrades bring changed documents in as new builds.
  Status sync_managed_components(const std::filesystem::path& dir);
  // `arn`: a build version ARN, or a version ARN with or without `x` wildcards (the newest
  // match). Components of account "aws" match whatever the ARN's region is.
  Result<Json> get_component(std::string_view arn) const;
  // The newest build of each matching name/version, as AWS's ComponentVersion summaries.
  Result<std::vector<Json>> list_components(const ListQuery& query) const;
  // Every build of one name/version (`arn` a version ARN), as ComponentSummary objects.
  Result<std::vector<Json>> list_component_build_versions(std::string_view arn) const;
  // kConflict while a recipe names this build exactly.
  Status delete_component(std::string_view build_version_arn);

  // --- Image recipes (reference 3.3) -----------------------------------------------------
  // `semanticVersion` may be "1.0.x" (or "1.x.x"): the wildcard becomes 1 + the highest
  // existing patch (minor) of that name, or 0; when the newest such recipe has the same content,
  // it is returned (created = false). Every component ARN must resolve and at least one must be
  // a BUILD component; component parameters must be declared by the component.
  Result<Created> create_image_recipe(const Json& request);
  Result<Json> get_image_recipe(std::string_view arn) const;
  Result<std::vector<Json>> list_image_recipes(const ListQuery& query) const;
  Status delete_image_recipe(std::string_view arn);

  // --- Infrastructure configurations (reference 3.5) --------------------------------------
  // kiln's reading of the members: instanceTypes[0] is the resource profile, logging.s3Logs a
  // log location (s3KeyPrefix holding a local folder when s3BucketName is empty, which must be in
  // log_root(): kInvalidArgument otherwise; see docs/build.md), snsTopicArn and the daemon's
  // notification targets are stored.
  Result<Created> create_infrastructure_configuration(const Json& request);
  // The request names the configuration by infrastructureConfigurationArn; the members it
  // gives replace the stored ones (AWS's UpdateInfrastructureConfiguration).
  Result<std::string> update_infrastructure_configuration(const Json& request);
  Result<Json> get_infrastructure_configuration(std::string_view arn) const;
  Result<std::vector<Json>> list_infrastructure_configurations(const ListQuery& query) const;
  Status delete_infrastructure_configuration(std::string_view arn);

  // --- Distribution configurations (reference 3.6) ----------------------------------------
  // Each distribution's `region` names a local region (regions below).
  Result<Created> create_distribution_configuration(const Json& request);
  Result<std::string> update_distribution_configuration(const Json& request);
  Result<Json> get_distribution_configuration(std::string_view arn) const;
  Result<std::vector<Json>> list_distribution_configurations(const ListQuery& query) const;
  Status delete_distribution_configuration(std::string_view arn);

  // --- Images (reference 3.8) ------------------------------------------------------------
  // CreateImage: the image `image/<recipe name>/<recipe version>/<build>` in PENDING, holding
  // full copies of the recipe and configurations (imageRecipe, infrastructureConfiguration,
  // distributionConfiguration), imageTestsConfiguration (default enabled), buildType
  // USER_INITIATED, dateCreated. The build number is 1 + the highest recorded for that name and
  // version, and at least `min_build` (the caller knows about builds outside the catalog).
  // `kiln` (an object) is stored as the image's `kiln` member in the same transaction: the
  // builder that creates and builds the image records itself from the first moment, so that no
  // instant exists in which its death leaves a PENDING image a daemon would take for its own.
  Result<Created> create_image(const Json& request, uint32_t min_build = 1, const Json& kiln = {});
  Result<Json> get_image(std::string_view arn) const;
  // The newest build of each image name/version, as ImageVersion summaries.
  Result<std::vector<Json>> list_images(const ListQuery& query) const;
  // Every build of one image name/version (a version ARN), as Image summaries, newest first.
  Result<std::vector<Json>> list_image_build_versions(std::string_view arn) const;
  // Images in one of `statuses` (all if empty), oldest first: what a restarted daemon reaps.
  Result<std::vector<Json>> images_with_status(const std::vector<ImageStatus>& statuses) const;
  // Moves the image to `status` (state.status and state.reason), refusing what can_transition
  // refuses (kConflict, naming both statuses). Returns the updated image.
  Result<Json> set_image_status(std::string_view arn,
                                ImageStatus status,
                                const std::string& reason = {});
  // Changes members of the stored image other than its state (outputResources, kiln's timings,
  // log location...) in one transaction: `change` gets the image and edits it.
  Result<Json> update_image(std::string_view arn, const std::function<void(Json&)>& change);
  // DeleteImage: only an image in a terminal status (kConflict otherwise).
  Status delete_image(std::string_view arn);

  // --- Image pipelines (reference 3.7) ----------------------------------------------------
  // CreateImagePipeline: name*, description, imageRecipeArn* (containerRecipeArn refused),
  // infrastructureConfigurationArn*, distributionConfigurationArn, imageTestsConfiguration,
  // enhancedImageMetadataEnabled, schedule {scheduleExpression (schedule::Schedule::parse),
  // timezone (schedule::check_timezone; default "UTC"), pipelineExecutionStartCondition
  // (EXPRESSION_MATCH_ONLY | EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE, the default),
  // autoDisablePolicy {failureCount 1-10}}, status (ENABLED, the default | DISABLED), tags, and
  // AWS's other members stored. ARN …:image-pipeline/<name>. The stored object adds platform,
  // dateCreated, dateUpdated, consecutiveFailures (0), lastRunStatus, dateNextRun (set by
  // set_pipeline_next_run); dateLastRun is never set (AWS no longer returns it). imageRecipeArn is
  // a version ARN, `x` wildcards allowed as AWS's pattern allows (kept as given; each build takes
  // the newest match). The referenced recipe and configurations must exist (kNotFound). The
  // same request again returns the pipeline (created = false); another one under the same name
  // is kAlreadyExists. docs/pipelines.md.
  Result<Created> create_image_pipeline(const Json& request);
  // UpdateImagePipeline (imagePipelineArn names it; infrastructureConfigurationArn and
  // imageRecipeArn required): not a selective update, as AWS's: the request's members are the
  // new configuration (a member left out goes back to its default or away); name and tags
  // stay. consecutiveFailures goes back to 0 and dateNextRun is removed (the scheduler sets it
  // again); lastRunStatus and dateLastFired stay.
  Result<std::string> update_image_pipeline(const Json& request);
  Result<Json> get_image_pipeline(std::string_view arn) const;
  Result<std::vector<Json>> list_image_pipelines(const ListQuery& query) const;
  // kConflict (ResourceDependencyException's wording) while an image of the pipeline is still
  // being built. While a pipeline exists, the recipe (exact ARN) and configurations it names
  // cannot be deleted (kConflict).
  Status delete_image_pipeline(std::string_view arn);
  // A build of the pipeline: create_image with the pipeline's recipe and configurations, the
  // image's sourcePipelineArn/sourcePipelineName set and buildType SCHEDULED or USER_INITIATED.
  Result<Created> create_pipeline_image(std::string_view pipeline_arn,
                                        bool scheduled,
                                        uint32_t min_build = 1,
                                        const Json& kiln = {});
  // The images a pipeline built, newest first (ListImagePipelineImages: ImageSummary objects;
  // filters name and version).
  Result<std::vector<Json>> list_image_pipeline_images(std::string_view pipeline_arn,
                                                       const ListQuery& query = {}) const;
  // Records how a build of the pipeline ended (AVAILABLE, FAILED or CANCELLED): lastRunStatus,
  // and AWS's consecutiveFailures rule (a failed scheduled run adds one; a success resets it; a
  // failed manual run leaves it; a CANCELLED run leaves it); when a failed scheduled run brings
  // it to autoDisablePolicy.failureCount (AWS: "the number of consecutive scheduled image
  // pipeline executions that must fail before Image Builder automatically disables the
  // pipeline"), the pipeline becomes DISABLED and loses dateNextRun. Another `status` is
  // kInvalidArgument. Returns the pipeline.
  Result<Json> record_pipeline_result(std::string_view pipeline_arn,
                                      ImageStatus status,
                                      bool scheduled);
  // The scheduler's bookkeeping: dateNextRun (absent when none) and when it last fired (kiln's
  // own member `dateLastFired`, the pipeline's last member, kept so a restarted daemon runs a
  // missed slot once; unchanged when `last_fired` is not given). Both in AWS's date format.
  Status set_pipeline_next_run(std::string_view pipeline_arn,
                               std::optional<SystemTime> next_run,
                               std::optional<SystemTime> last_fired = {});

  // --- clientToken idempotency -------------------------------------------------------------
  // The response recorded for `token` of `operation`, if any; kConflict (AWS's
  // IdempotentParameterMismatchException) when the token came with a different request. The
  // request is compared without its clientToken member and regardless of member order. Tokens
  // are remembered 8 hours (older ones are ignored and purged). `token`: 1-64 characters.
  Result<std::optional<Json>> idempotent_response(std::string_view operation,
                                                  std::string_view token,
                                                  const Json& request) const;
  // kConflict when the token is already recorded for a different request; the same request
  // recorded twice keeps the first response.
  Status record_idempotent_response(std::string_view operation,
                                    std::string_view token,
                                    const Json& request,
                                    const Json& response);

  // --- Local regions ---------------------------------------------------------------------
  // A region is an image store folder that distributions write to; a region never set here is
  // <default_parent>/<name>.
  Status set_region(const std::string& name, const std::filesystem::path& store_dir);
  Result<std::filesystem::path> region_store(const std::string& name,
                                             const std::filesystem::path& default_parent) const;
  Result<std::vector<std::pair<std::string, std::filesystem::path>>> list_regions() const;

 private:
  struct Impl;
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::state
