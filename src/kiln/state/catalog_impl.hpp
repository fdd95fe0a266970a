#pragma once

// The Catalog's private state and the helpers its resource files share (components.cpp,
// recipes.cpp, configurations.cpp, images.cpp, regions.cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/catalog/arn.hpp"
#include "kiln/catalog/version.hpp"
#include "kiln/state/catalog.hpp"
#include "kiln/state/database.hpp"

namespace kiln::state {

struct ConfigurationKind;  // configurations.cpp

// The schema this kiln writes (docs/formats/state.md).
inline constexpr int kSchemaVersion = 2;

// Migrates `db` to schema `target` (at most kSchemaVersion); returns the version it is at.
// Catalog::open migrates to kSchemaVersion; tests make older files with a lower target.
Result<int> migrate(Database& db, int target = kSchemaVersion);

// "2020-01-27T20:43:30.306Z": RFC 3339 in UTC with milliseconds, as AWS writes dateCreated.
std::string format_aws_time(SystemTime time);

// The JSON object of a stored document (kCorruption when it does not parse).
Result<Json> parse_stored(const std::string& text, std::string_view arn);

// imageTestsConfiguration of a CreateImage/CreateImagePipeline request: checked, and as stored
// (imageTestsEnabled defaults to true).
Status check_tests_configuration(const Json& request);
Json tests_configuration(const Json& request);
// ImageSummary of a stored image (list_image_build_versions, list_image_pipeline_images).
Json image_summary(const Json& image, const std::string& owner);

// The pipeline an image is built for (create_pipeline_image).
struct PipelineBuild {
  std::string arn;
  std::string name;
  bool scheduled = false;
};

// One stored row of a versioned resource: its key columns and its document.
struct VersionedRow {
  std::string arn;
  catalog::SemanticVersion version;
  uint32_t build = 0;  // 0 for resources without builds (recipes)
  Json document;
};

struct Catalog::Impl {
  mutable Database db;  // reads in const calls prepare statements
  Account account;
  const Clock* clock = nullptr;
  int schema = 0;
  std::filesystem::path log_root;  // Catalog::log_root

  std::string now() const { return format_aws_time(clock->now()); }

  // An ARN of ours (owner = our account, or "aws" for managed resources).
  catalog::ImageBuilderArn make_arn(catalog::ResourceType type,
                                    const std::string& name,
                                    std::optional<catalog::SemanticVersion> version = {},
                                    std::optional<uint32_t> build = {},
                                    std::string_view owner = {}) const;
  // Parses `text` as an ARN of `type`; kInvalidArgument when it is not one.
  Result<catalog::ImageBuilderArn> parse_arn(std::string_view text,
                                             catalog::ResourceType type) const;
  // Whose resource `arn` names: our account id for our partition, region and account; "aws"
  // for account "aws" in any region when `managed` is allowed; kNotFound otherwise.
  Result<std::string> owner_of(const catalog::ImageBuilderArn& arn, bool managed) const;
  // The ARN as this catalog stores it: a managed resource's ARN takes our region.
  std::string canonical_arn(const catalog::ImageBuilderArn& arn) const;

  // The next build of <kind>/<owner>/<name>/<version>: one more than any ever handed out (builds
  // are never reused, even after a delete), at least `min_build`. Call inside a transaction.
  Result<uint32_t> next_build(std::string_view kind,
                              const std::string& owner,
                              const std::string& name,
                              const catalog::SemanticVersion& version,
                              uint32_t min_build);

  // Rows of `table` (components, image_recipes or images) of one owner and name, newest first.
  Result<std::vector<VersionedRow>> versioned_rows(std::string_view table,
                                                   const std::string& owner,
                                                   const std::string& name) const;
  // The newest row matching the ARN's version filter (and build, if it has one); kNotFound
  // naming `what` and the ARN.
  Result<VersionedRow> resolve(std::string_view table,
                               const catalog::ImageBuilderArn& arn,
                               const std::string& owner,
                               std::string_view text) const;
  // The documents of one owner's rows of `table` for a list call, in key order.
  Result<std::vector<Json>> documents(std::string_view sql, const std::string& owner) const;

  // The component `arn` resolves to (self or managed), for get_component and recipes.
  Result<Json> find_component(std::string_view arn) const;
  // A configuration or recipe stored under an exact ARN (tables without versions).
  Result<Json> find_by_arn(std::string_view table, const std::string& arn) const;
  // Checks a CreateComponent request and stores it for `owner` with auto-versioning (the caller
  // holds a transaction).
  Result<Created> add_component(const Json& request, std::string_view owner);
  // Checks a CreateImageRecipe request: the stored recipe without arn, version and dateCreated.
  Result<Json> recipe_content(const Json& request) const;
  // Checks a CreateInfrastructureConfiguration/CreateDistributionConfiguration request (or the
  // result of applying an update to a stored one): the stored members that come from it.
  Result<Json> infrastructure_content(const Json& request) const;
  Result<Json> distribution_content(const Json& request) const;
  Result<Created> create_configuration(const ConfigurationKind& kind, const Json& request);
  Result<std::string> update_configuration(const ConfigurationKind& kind, const Json& request);
  Result<Json> get_configuration(const ConfigurationKind& kind, std::string_view arn) const;
  Result<std::vector<Json>> list_configurations(const ConfigurationKind& kind,
                                                const ListQuery& query) const;
  Status delete_configuration(const ConfigurationKind& kind, std::string_view arn);
  // CreateImage inside the caller's transaction: checks `request`, resolves the recipe and
  // configurations through `self` and stores the image PENDING (with its source pipeline
  // when `pipeline` is set, and `kiln` as its kiln member when that is a non-empty object).
  Result<Created> add_image(const Catalog& self,
                            const Json& request,
                            uint32_t min_build,
                            const PipelineBuild* pipeline,
                            const Json& kiln);
  // The stored ARN of a pipeline of ours named by `text` (kInvalidArgument, kNotFound).
  Result<std::string> pipeline_arn(std::string_view text) const;
  // The stored pipeline (kNotFound "no such image pipeline").
  Result<Json> load_pipeline(const std::string& arn) const;
  // kConflict (ResourceDependencyException) when an image pipeline holds `arn` in `column`.
  Status check_no_pipeline(std::string_view column,
                           const std::string& arn,
                           std::string_view what) const;
  // kConflict when a non-terminal image holds `arn` in `column`.
  Status check_no_running_image(std::string_view column,
                                const std::string& arn,
                                std::string_view what) const;
};

}  // namespace kiln::state
