#include "kiln/state/catalog.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <map>
#include <set>

#include "kiln/state/catalog_impl.hpp"
#include "kiln/state/database.hpp"
#include "kiln/state/state_testing.hpp"

namespace kiln::state {
namespace {

using testing::build_document;
using testing::CatalogTest;

TEST_F(CatalogTest, MigratesAnEmptyFileToTheCurrentSchema) {
  EXPECT_EQ(catalog_->schema_version(), kSchemaVersion);
  Result<Database> db = Database::open(db_path());
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->user_version().value_or(-1), kSchemaVersion);
  Result<Statement> tables =
      db->prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  ASSERT_TRUE(tables.ok());
  std::set<std::string> names;
  while (tables->step().value_or(false)) {
    names.insert(tables->column_text(0));
  }
  for (const char* table : {"build_counters",
                            "components",
                            "distribution_configurations",
                            "image_recipes",
                            "images",
                            "infrastructure_configurations",
                            "recipe_components",
                            "regions"}) {
    EXPECT_TRUE(names.count(table)) << table;
  }
}

TEST_F(CatalogTest, ReopeningKeepsResourcesAndDoesNotMigrateAgain) {
  std::string component = add_component("hello", "1.0.0", build_document());
  catalog_.reset();
  std::unique_ptr<Catalog> reopened = open_catalog();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->schema_version(), kSchemaVersion);
  Result<Json> got = reopened->get_component(component);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->value("name", ""), "hello");
}

TEST_F(CatalogTest, RefusesADatabaseOfANewerSchema) {
  catalog_.reset();
  {
    Result<Database> db = Database::open(db_path());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->set_user_version(kSchemaVersion + 1).ok());
  }
  Result<std::unique_ptr<Catalog>> opened = Catalog::open(db_path(), account_, clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kConflict);
  EXPECT_NE(opened.error().message.find("upgrade kiln"), std::string::npos)
      << opened.error().message;
}

TEST_F(CatalogTest, RefusesAFileThatIsNotADatabase) {
  catalog_.reset();
  std::filesystem::path junk = dir_->path() / "junk.db";
  ASSERT_TRUE(write_file(junk, std::string(4096, 'x')).ok());
  Result<std::unique_ptr<Catalog>> opened = Catalog::open(junk, account_, clock_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kCorruption) << opened.error().message;
}

TEST_F(CatalogTest, TwoCatalogsShareOneFile) {
  std::unique_ptr<Catalog> other = open_catalog();
  ASSERT_NE(other, nullptr);
  std::string first = add_component("hello", "1.0.0", build_document("one"));
  // The other connection sees it and continues its build numbers.
  Result<Json> seen = other->get_component(first);
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  Result<Created> second =
      other->create_component(testing::component_request("hello", "1.0.0", build_document("two")));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->arn, arn("component/hello/1.0.0/2"));
  std::string third = add_component("hello", "1.0.0", build_document("three"));
  EXPECT_EQ(third, arn("component/hello/1.0.0/3"));
  // Images created alternately through both get distinct builds.
  Json request = image_request();
  std::set<std::string> images;
  for (int i = 0; i < 4; ++i) {
    Catalog& catalog = i % 2 == 0 ? *catalog_ : *other;
    Result<Created> image = catalog.create_image(request);
    ASSERT_TRUE(image.ok()) << image.error().message;
    images.insert(image->arn);
  }
  EXPECT_EQ(images.size(), 4u);
  EXPECT_TRUE(images.count(arn("image/web/1.0.0/4")));
}

TEST(Account, ReadsTheEnvironment) {
  ASSERT_EQ(setenv("KILN_REGION", "eu-west-9", 1), 0);
  ASSERT_EQ(setenv("KILN_ACCOUNT_ID", "111122223333", 1), 0);
  Result<Account> account = Account::from_environment();
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->region, "eu-west-9");
  EXPECT_EQ(account->account_id, "111122223333");
  EXPECT_EQ(account->partition, "aws");
  ASSERT_EQ(setenv("KILN_ACCOUNT_ID", "12345", 1), 0);
  EXPECT_EQ(Account::from_environment().error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(setenv("KILN_ACCOUNT_ID", "111122223333", 1), 0);
  ASSERT_EQ(setenv("KILN_REGION", "Bad_Region", 1), 0);
  EXPECT_EQ(Account::from_environment().error().code, ErrorCode::kInvalidArgument);
  unsetenv("KILN_REGION");
  unsetenv("KILN_ACCOUNT_ID");
  Result<Account> defaults = Account::from_environment();
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->region, "local");
  EXPECT_EQ(defaults->account_id, "000000000000");
}

TEST(FormatAwsTime, WritesUtcWithMilliseconds) {
  EXPECT_EQ(format_aws_time(SystemTime(std::chrono::milliseconds(1580157810306))),
            "2020-01-27T20:43:30.306Z");
  EXPECT_EQ(format_aws_time(SystemTime(std::chrono::milliseconds(5))), "1970-01-01T00:00:00.005Z");
}

constexpr ImageStatus kAllStatuses[] = {
    ImageStatus::kPending,
    ImageStatus::kCreating,
    ImageStatus::kBuilding,
    ImageStatus::kTesting,
    ImageStatus::kDistributing,
    ImageStatus::kIntegrating,
    ImageStatus::kAvailable,
    ImageStatus::kCancelled,
    ImageStatus::kFailed,
    ImageStatus::kDeprecated,
    ImageStatus::kDeleted,
    ImageStatus::kDisabled,
};

TEST(ImageStatus, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (ImageStatus status : kAllStatuses) {
    std::string_view name = image_status_name(status);
    names.insert(name);
    EXPECT_EQ(parse_image_status(name), status) << name;
  }
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(image_status_name(ImageStatus::kDistributing), "DISTRIBUTING");
  EXPECT_FALSE(parse_image_status("available").has_value());
  EXPECT_FALSE(parse_image_status("").has_value());
}

TEST(ImageStatus, TerminalStatuses) {
  std::set<std::string_view> terminal;
  for (ImageStatus status : kAllStatuses) {
    if (is_terminal(status)) {
      terminal.insert(image_status_name(status));
    }
  }
  EXPECT_EQ(terminal,
            (std::set<std::string_view>{
                "AVAILABLE", "CANCELLED", "FAILED", "DEPRECATED", "DELETED", "DISABLED"}));
}

// Every pair of statuses, written out: the rows are `from`, the allowed `to`s listed by name.
TEST(ImageStatus, TransitionsOverEveryPair) {
  const std::map<std::string_view, std::set<std::string_view>> allowed = {
      {"PENDING",
       {"CREATING",
        "BUILDING",
        "TESTING",
        "DISTRIBUTING",
        "INTEGRATING",
        "AVAILABLE",
        "FAILED",
        "CANCELLED"}},
      {"CREATING",
       {"BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE", "FAILED", "CANCELLED"}},
      {"BUILDING", {"TESTING", "DISTRIBUTING", "INTEGRATING", "AVAILABLE", "FAILED", "CANCELLED"}},
      {"TESTING", {"DISTRIBUTING", "INTEGRATING", "AVAILABLE", "FAILED", "CANCELLED"}},
      {"DISTRIBUTING", {"INTEGRATING", "AVAILABLE", "FAILED", "CANCELLED"}},
      {"INTEGRATING", {"AVAILABLE", "FAILED", "CANCELLED"}},
      {"AVAILABLE", {"DEPRECATED", "DISABLED", "DELETED"}},
      {"DEPRECATED", {"AVAILABLE", "DELETED"}},
      {"DISABLED", {"AVAILABLE", "DELETED"}},
      {"FAILED", {}},
      {"CANCELLED", {}},
      {"DELETED", {}},
  };
  int checked = 0;
  for (ImageStatus from : kAllStatuses) {
    for (ImageStatus to : kAllStatuses) {
      bool expected = allowed.at(image_status_name(from)).count(image_status_name(to)) > 0;
      EXPECT_EQ(can_transition(from, to), expected)
          << image_status_name(from) << " -> " << image_status_name(to);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 144);
}

TEST_F(CatalogTest, RegionsDefaultToAFolderAndCanBeSet) {
  Result<std::filesystem::path> unset = catalog_->region_store("eu-backup", "/srv/regions");
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(*unset, std::filesystem::path("/srv/regions/eu-backup"));
  ASSERT_TRUE(catalog_->set_region("eu-backup", "/mnt/backup/store").ok());
  ASSERT_TRUE(catalog_->set_region("archive", "/mnt/archive").ok());
  EXPECT_EQ(catalog_->region_store("eu-backup", "/srv/regions").value_or(""),
            std::filesystem::path("/mnt/backup/store"));
  ASSERT_TRUE(catalog_->set_region("eu-backup", "/mnt/other").ok());
  Result<std::vector<std::pair<std::string, std::filesystem::path>>> regions =
      catalog_->list_regions();
  ASSERT_TRUE(regions.ok());
  ASSERT_EQ(regions->size(), 2u);
  EXPECT_EQ((*regions)[0].first, "archive");
  EXPECT_EQ((*regions)[1].second, std::filesystem::path("/mnt/other"));
  EXPECT_EQ(catalog_->set_region("Bad Region", "/x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog_->set_region("ok", "relative").error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::state
