#include "kiln/state/state_testing.hpp"

namespace kiln::state::testing {

std::string build_document(const std::string& word) {
  return R"(name: hello
schemaVersion: 1.0
parameters:
  - Greeting:
      type: string
      default: hello
      description: what to say
phases:
  - name: build
    steps:
      - name: Say
        action: ExecuteBash
        inputs:
          commands:
            - echo '{{ Greeting }} )" +
         word + R"('
)";
}

std::string test_document() {
  return R"(name: check
schemaVersion: 1.0
phases:
  - name: test
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands:
            - "true"
)";
}

Json component_request(const std::string& name,
                       const std::string& version,
                       const std::string& data) {
  return Json{{"name", name},
              {"semanticVersion", version},
              {"platform", "Linux"},
              {"data", data},
              {"clientToken", "token"}};
}

Json recipe_request(const std::string& name, const std::string& version, const Json& components) {
  Json entries = Json::array();
  for (const Json& component : components) {
    entries.push_back(component.is_string() ? Json{{"componentArn", component}} : component);
  }
  return Json{{"name", name},
              {"semanticVersion", version},
              {"parentImage", "debian/12.0.0"},
              {"components", entries}};
}

Json infrastructure_request(const std::string& name) {
  return Json{{"name", name}, {"instanceTypes", {"t3.micro"}}};
}

Json distribution_request(const std::string& name, const Json& regions) {
  Json distributions = Json::array();
  for (const Json& region : regions) {
    distributions.push_back(
        {{"region", region},
         {"amiDistributionConfiguration", {{"name", "web-{{ imagebuilder:buildDate }}"}}}});
  }
  return Json{{"name", name}, {"distributions", distributions}};
}

void CatalogTest::SetUp() {
  Result<TempDir> dir = TempDir::create("kiln-state-test-");
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  dir_.emplace(std::move(dir).value());
  account_.account_id = "123456789012";
  account_.region = "local";
  catalog_ = open_catalog();
  ASSERT_NE(catalog_, nullptr);
}

std::unique_ptr<Catalog> CatalogTest::open_catalog() {
  Result<std::unique_ptr<Catalog>> catalog = Catalog::open(db_path(), account_, clock_);
  EXPECT_TRUE(catalog.ok()) << catalog.error().message;
  return catalog.ok() ? std::move(catalog).value() : nullptr;
}

std::string CatalogTest::add_component(const std::string& name,
                                       const std::string& version,
                                       const std::string& data) {
  Result<Created> created = catalog_->create_component(component_request(name, version, data));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? created->arn : std::string();
}

std::string CatalogTest::add_recipe(const std::string& name,
                                    const std::string& version,
                                    const Json& components) {
  Result<Created> created =
      catalog_->create_image_recipe(recipe_request(name, version, components));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? created->arn : std::string();
}

std::string CatalogTest::add_infrastructure(const std::string& name) {
  Result<Created> created =
      catalog_->create_infrastructure_configuration(infrastructure_request(name));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? created->arn : std::string();
}

std::string CatalogTest::add_distribution(const std::string& name) {
  Result<Created> created = catalog_->create_distribution_configuration(
      distribution_request(name, Json::array({"local", "eu-backup"})));
  EXPECT_TRUE(created.ok()) << created.error().message;
  return created.ok() ? created->arn : std::string();
}

Json CatalogTest::image_request(const std::string& recipe_name) {
  Result<Json> existing = catalog_->get_component(arn("component/hello/1.0.0"));
  std::string component = existing.ok() ? existing->value("arn", "")
                                        : add_component("hello", "1.0.0", build_document());
  Result<Json> recipe = catalog_->get_image_recipe(arn("image-recipe/" + recipe_name + "/x.x.x"));
  std::string recipe_arn =
      recipe.ok() ? recipe->value("arn", "") : add_recipe(recipe_name, "1.0.0", {component});
  Result<Json> infra =
      catalog_->get_infrastructure_configuration(arn("infrastructure-configuration/small"));
  std::string infra_arn = infra.ok() ? infra->value("arn", "") : add_infrastructure("small");
  return Json{{"imageRecipeArn", recipe_arn}, {"infrastructureConfigurationArn", infra_arn}};
}

std::string CatalogTest::arn(const std::string& resource) const {
  return "arn:aws:imagebuilder:local:123456789012:" + resource;
}

}  // namespace kiln::state::testing
