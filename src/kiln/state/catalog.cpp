#include "kiln/state/catalog.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "kiln/state/catalog_impl.hpp"

namespace kiln::state {
namespace {

// Each migration takes the schema from version - 1 to version. Append only: a released
// migration never changes (docs/formats/state.md).
struct Migration {
  int version;
  std::string_view sql;
};

constexpr std::array<Migration, 2> kMigrations = {{
    {1, R"sql(
CREATE TABLE components (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  major INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  patch INTEGER NOT NULL,
  build INTEGER NOT NULL,
  type TEXT NOT NULL,
  platform TEXT NOT NULL,
  status TEXT NOT NULL,
  data_sha256 TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (owner, name, major, minor, patch, build));
CREATE INDEX components_by_type ON components (owner, type);

CREATE TABLE image_recipes (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  major INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  patch INTEGER NOT NULL,
  content_sha256 TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (owner, name, major, minor, patch));

CREATE TABLE recipe_components (
  recipe_arn TEXT NOT NULL REFERENCES image_recipes (arn) ON DELETE CASCADE,
  component_arn TEXT NOT NULL);
CREATE INDEX recipe_components_by_component ON recipe_components (component_arn);
CREATE INDEX recipe_components_by_recipe ON recipe_components (recipe_arn);

CREATE TABLE infrastructure_configurations (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL);

CREATE TABLE distribution_configurations (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL);

CREATE TABLE images (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  major INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  patch INTEGER NOT NULL,
  build INTEGER NOT NULL,
  status TEXT NOT NULL,
  recipe_arn TEXT NOT NULL,
  infrastructure_arn TEXT NOT NULL,
  distribution_arn TEXT,
  date_created TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (owner, name, major, minor, patch, build));
CREATE INDEX images_by_status ON images (status, date_created);
CREATE INDEX images_by_recipe ON images (recipe_arn);
CREATE INDEX images_by_infrastructure ON images (infrastructure_arn);
CREATE INDEX images_by_distribution ON images (distribution_arn);

CREATE TABLE build_counters (
  kind TEXT NOT NULL,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  last_build INTEGER NOT NULL,
  PRIMARY KEY (kind, owner, name, version));

CREATE TABLE regions (
  name TEXT PRIMARY KEY,
  store_dir TEXT NOT NULL);
)sql"},
    {2, R"sql(
CREATE TABLE image_pipelines (
  arn TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  recipe_arn TEXT NOT NULL,
  infrastructure_arn TEXT NOT NULL,
  distribution_arn TEXT,
  document TEXT NOT NULL);
CREATE INDEX image_pipelines_by_recipe ON image_pipelines (recipe_arn);
CREATE INDEX image_pipelines_by_infrastructure ON image_pipelines (infrastructure_arn);
CREATE INDEX image_pipelines_by_distribution ON image_pipelines (distribution_arn);

ALTER TABLE images ADD COLUMN source_pipeline_arn TEXT;
CREATE INDEX images_by_pipeline ON images (source_pipeline_arn, date_created);

CREATE TABLE client_tokens (
  operation TEXT NOT NULL,
  token TEXT NOT NULL,
  request_sha256 TEXT NOT NULL,
  response TEXT NOT NULL,
  date_created TEXT NOT NULL,
  PRIMARY KEY (operation, token));
CREATE INDEX client_tokens_by_date ON client_tokens (date_created);
)sql"},
}};

}  // namespace

// Applies every migration above the database's version up to `target`, each in its own
// transaction that re-reads the version (another process may have migrated meanwhile).
Result<int> migrate(Database& db, int target) {
  int version = KILN_TRY(db.user_version());
  if (version > kSchemaVersion) {
    return make_error(ErrorCode::kConflict,
                      "{}: schema version {} is newer than this kiln knows ({}): upgrade kiln",
                      db.path().string(),
                      version,
                      kSchemaVersion);
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version || migration.version > target) {
      continue;
    }
    Transaction txn = KILN_TRY(Transaction::begin(db));
    version = KILN_TRY(db.user_version());
    if (version >= migration.version) {
      continue;  // the rollback of an empty transaction
    }
    KILN_TRY_CTX(db.exec(migration.sql), fmt::format("migrating to schema {}", migration.version));
    KILN_TRY(db.set_user_version(migration.version));
    KILN_TRY(txn.commit());
    version = migration.version;
  }
  return version;
}

namespace {

constexpr std::array<std::pair<ImageStatus, std::string_view>, 12> kStatusNames = {{
    {ImageStatus::kPending, "PENDING"},
    {ImageStatus::kCreating, "CREATING"},
    {ImageStatus::kBuilding, "BUILDING"},
    {ImageStatus::kTesting, "TESTING"},
    {ImageStatus::kDistributing, "DISTRIBUTING"},
    {ImageStatus::kIntegrating, "INTEGRATING"},
    {ImageStatus::kAvailable, "AVAILABLE"},
    {ImageStatus::kCancelled, "CANCELLED"},
    {ImageStatus::kFailed, "FAILED"},
    {ImageStatus::kDeprecated, "DEPRECATED"},
    {ImageStatus::kDeleted, "DELETED"},
    {ImageStatus::kDisabled, "DISABLED"},
}};

// The position of a status on the build's way to AVAILABLE, or -1 when it is not on it.
int build_stage(ImageStatus status) {
  int stage = static_cast<int>(status) - static_cast<int>(ImageStatus::kPending);
  return status <= ImageStatus::kAvailable ? stage : -1;
}

bool is_disposition(ImageStatus status) {
  return status == ImageStatus::kDeprecated || status == ImageStatus::kDisabled;
}

bool valid_region(std::string_view region) {
  return !region.empty() && region.size() <= 64 &&
         std::all_of(region.begin(), region.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

}  // namespace

std::string format_aws_time(SystemTime time) {
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  int64_t ms = millis.count() % 1000;
  int64_t seconds = millis.count() / 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                     tm.tm_year + 1900,
                     tm.tm_mon + 1,
                     tm.tm_mday,
                     tm.tm_hour,
                     tm.tm_min,
                     tm.tm_sec,
                     ms);
}

Result<Account> Account::from_environment() {
  Account account;
  if (const char* region = std::getenv("KILN_REGION"); region != nullptr && *region != '\0') {
    if (!valid_region(region)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "KILN_REGION=\"{}\": a region is 1 to 64 characters of [a-z0-9-]",
                        region);
    }
    account.region = region;
  }
  if (const char* id = std::getenv("KILN_ACCOUNT_ID"); id != nullptr && *id != '\0') {
    std::string_view text(id);
    if (text.size() != 12 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return make_error(
          ErrorCode::kInvalidArgument, "KILN_ACCOUNT_ID=\"{}\": an account id is 12 digits", text);
    }
    account.account_id = text;
  }
  return account;
}

std::string_view image_status_name(ImageStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) {
      return name;
    }
  }
  return "PENDING";
}

std::optional<ImageStatus> parse_image_status(std::string_view name) {
  for (const auto& [value, text] : kStatusNames) {
    if (text == name) {
      return value;
    }
  }
  return std::nullopt;
}

bool is_terminal(ImageStatus status) {
  return status >= ImageStatus::kAvailable;
}

bool can_transition(ImageStatus from, ImageStatus to) {
  if (!is_terminal(from)) {
    bool forward = build_stage(to) > build_stage(from);
    return forward || to == ImageStatus::kFailed || to == ImageStatus::kCancelled;
  }
  if (from == ImageStatus::kAvailable) {
    return is_disposition(to) || to == ImageStatus::kDeleted;
  }
  if (is_disposition(from)) {
    return to == ImageStatus::kAvailable || to == ImageStatus::kDeleted;
  }
  return false;  // FAILED, CANCELLED and DELETED are final
}

Catalog::Catalog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::open(const std::filesystem::path& file,
                                               Account account,
                                               const Clock& clock) {
  Database db = KILN_TRY(Database::open(file));
  int version = KILN_TRY_CTX(migrate(db), "opening the catalog " + file.string());
  auto impl = std::make_unique<Impl>(Impl{std::move(db), std::move(account), &clock, version, {}});
  std::error_code ec;
  impl->log_root = std::filesystem::absolute(file, ec).parent_path().lexically_normal() / "logs";
  return std::unique_ptr<Catalog>(new Catalog(std::move(impl)));
}

void Catalog::set_log_root(const std::filesystem::path& root) {
  impl_->log_root = root;
}

const std::filesystem::path& Catalog::log_root() const {
  return impl_->log_root;
}

const Account& Catalog::account() const {
  return impl_->account;
}

int Catalog::schema_version() const {
  return impl_->schema;
}

const std::vector<std::string_view>& create_request_members(catalog::ResourceType type) {
  static const std::vector<std::string_view> component = {"name",
                                                          "semanticVersion",
                                                          "description",
                                                          "changeDescription",
                                                          "platform",
                                                          "supportedOsVersions",
                                                          "data",
                                                          "uri",
                                                          "kmsKeyId",
                                                          "tags"};
  static const std::vector<std::string_view> recipe = {"name",
                                                       "description",
                                                       "semanticVersion",
                                                       "components",
                                                       "parentImage",
                                                       "blockDeviceMappings",
                                                       "tags",
                                                       "workingDirectory",
                                                       "additionalInstanceConfiguration",
                                                       "amiTags"};
  static const std::vector<std::string_view> infrastructure = {"name",
                                                               "description",
                                                               "instanceTypes",
                                                               "instanceProfileName",
                                                               "securityGroupIds",
                                                               "subnetId",
                                                               "logging",
                                                               "keyPair",
                                                               "terminateInstanceOnFailure",
                                                               "snsTopicArn",
                                                               "resourceTags",
                                                               "instanceMetadataOptions",
                                                               "tags",
                                                               "placement",
                                                               "networkMode"};
  static const std::vector<std::string_view> distribution = {
      "name", "description", "distributions", "tags", "timeoutMinutes"};
  static const std::vector<std::string_view> image = {"imageRecipeArn",
                                                      "containerRecipeArn",
                                                      "distributionConfigurationArn",
                                                      "infrastructureConfigurationArn",
                                                      "imageTestsConfiguration",
                                                      "enhancedImageMetadataEnabled",
                                                      "tags",
                                                      "imageScanningConfiguration",
                                                      "workflows",
                                                      "executionRole",
                                                      "loggingConfiguration"};
  static const std::vector<std::string_view> pipeline = {"name",
                                                         "description",
                                                         "imageRecipeArn",
                                                         "containerRecipeArn",
                                                         "infrastructureConfigurationArn",
                                                         "distributionConfigurationArn",
                                                         "imageTestsConfiguration",
                                                         "enhancedImageMetadataEnabled",
                                                         "schedule",
                                                         "status",
                                                         "tags",
                                                         "imageTags",
                                                         "imageScanningConfiguration",
                                                         "workflows",
                                                         "executionRole",
                                                         "loggingConfiguration"};
  static const std::vector<std::string_view> none;
  switch (type) {
    case catalog::ResourceType::kComponent:
      return component;
    case catalog::ResourceType::kImageRecipe:
      return recipe;
    case catalog::ResourceType::kInfrastructureConfiguration:
      return infrastructure;
    case catalog::ResourceType::kDistributionConfiguration:
      return distribution;
    case catalog::ResourceType::kImage:
      return image;
    case catalog::ResourceType::kImagePipeline:
      return pipeline;
    default:
      return none;
  }
}

}  // namespace kiln::state
