#pragma once

// Shared fixtures of the state tests: a catalog on a real SQLite file in a temporary folder, a
// clock the test sets, and requests for the usual resources.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kiln/base/file.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::state::testing {

class FixedClock final : public Clock {
 public:
  SystemTime now() const override { return time; }
  void advance_ms(int64_t ms) { time += std::chrono::milliseconds(ms); }
  // 2020-01-27T20:43:30.306Z
  SystemTime time = SystemTime(std::chrono::milliseconds(1580157810306));
};

// A build component document with a parameter `Greeting` (default "hello") that echoes `word`.
std::string build_document(const std::string& word = "hello");
// A document with only a test phase.
std::string test_document();

Json component_request(const std::string& name,
                       const std::string& version,
                       const std::string& data);
Json recipe_request(const std::string& name, const std::string& version, const Json& components);
Json infrastructure_request(const std::string& name);
Json distribution_request(const std::string& name, const Json& regions);

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override;
  std::filesystem::path db_path() const { return dir_->path() / "state.db"; }
  std::unique_ptr<Catalog> open_catalog();

  // Each expects success and returns the ARN.
  std::string add_component(const std::string& name,
                            const std::string& version,
                            const std::string& data);
  std::string add_recipe(const std::string& name,
                         const std::string& version,
                         const Json& components);
  std::string add_infrastructure(const std::string& name);
  std::string add_distribution(const std::string& name);
  // A component, a recipe using it and an infrastructure configuration; returns the request of
  // CreateImage for them.
  Json image_request(const std::string& recipe_name = "web");
  std::string arn(const std::string& resource) const;  // "component/x/1.0.0/1" -> full ARN

  std::optional<TempDir> dir_;
  FixedClock clock_;
  Account account_;
  std::unique_ptr<Catalog> catalog_;
};

}  // namespace kiln::state::testing
