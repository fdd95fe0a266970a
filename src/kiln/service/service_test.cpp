// The service with real builds on busybox and a fake clock for its scheduler: a per-minute
// pipeline fires once per slot, a missed stretch fires once, and the dependency-updates condition
// skips a run when nothing changed and builds when a new component version appears. Needs root,
// bubblewrap and busybox (skips otherwise).

#include "kiln/service/service.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "kiln/base/file.hpp"
#include "kiln/os/process.hpp"
#include "kiln/service/scheduler.hpp"

namespace kiln::service {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start) : now_(start) {}
  SystemTime now() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void advance(std::chrono::seconds by) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += by;
  }

 private:
  mutable std::mutex mutex_;
  SystemTime now_;
};

constexpr const char* kComponent = R"(name: stamp
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: Stamp
        action: ExecuteBash
        inputs:
          commands:
            - echo VERSION > /etc/stamp
)";

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root";
    }
    for (const char* tool : {"bwrap", "busybox"}) {
      if (!os::find_program(tool)) {
        GTEST_SKIP() << tool << " is not installed";
      }
    }
    Result<TempDir> dir = TempDir::create("kiln-service-test-");
    ASSERT_TRUE(dir.ok());
    tmp_.emplace(std::move(*dir));
    options_.root = tmp_->path();
    options_.helpers.kiln = KILN_TEST_KILN;
    options_.helpers.sandbox_init = KILN_TEST_SANDBOX_INIT;
    options_.toe = build::ToeBundle{fs::path(KILN_TEST_TOE_BUNDLE) / "bin" / "kiln-toe",
                                    fs::path(KILN_TEST_TOE_BUNDLE) / "libexec" / "kiln"};
    options_.share_dir = fs::path(KILN_SOURCE_DIR) / "share";
    options_.max_concurrent_builds = 1;
    options_.scheduler_tick = 20ms;
  }

  void TearDown() override {
    service_.reset();
    if (tmp_) {
      instance::Instances instances(tmp_->path(), options_.helpers);
      if (auto all = instances.list(); all) {
        for (const auto& r : *all) {
          (void)instances.terminate(r.id);
        }
      }
    }
  }

  void start() {
    Result<std::unique_ptr<Service>> started = Service::start(options_, clock_);
    ASSERT_TRUE(started.ok()) << started.error().message;
    service_ = std::move(*started);
    Result<std::unique_ptr<state::Catalog>> catalog = service_->open_catalog();
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    catalog_ = std::move(*catalog);
  }

  std::string create_component(const std::string& version_text) {
    std::string data = kComponent;
    data.replace(data.find("VERSION"), 7, version_text);
    Result<state::Created> created = catalog_->create_component(
        {{"name", "stamp"}, {"semanticVersion", "1.0.0"}, {"platform", "Linux"}, {"data", data}});
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created ? created->arn : "";
  }

  std::string create_pipeline(const std::string& name, const std::string& condition) {
    create_component("one");
    Result<state::Created> recipe = catalog_->create_image_recipe(
        {{"name", name},
         {"semanticVersion", "1.0.0"},
         {"parentImage", "busybox"},
         {"components",
          {{{"componentArn", "arn:aws:imagebuilder:local:000000000000:component/stamp/x.x.x"}}}}});
    EXPECT_TRUE(recipe.ok()) << recipe.error().message;
    Result<state::Created> infra =
        catalog_->create_infrastructure_configuration({{"name", name + "-infra"}});
    EXPECT_TRUE(infra.ok()) << infra.error().message;
    Result<state::Created> pipeline = catalog_->create_image_pipeline(
        {{"name", name},
         {"imageRecipeArn", recipe->arn},
         {"infrastructureConfigurationArn", infra->arn},
         {"imageTestsConfiguration", {{"imageTestsEnabled", false}}},
         {"schedule",
          {{"scheduleExpression", "cron(* * * * ? *)"},
           {"pipelineExecutionStartCondition", condition}}}});
    EXPECT_TRUE(pipeline.ok()) << pipeline.error().message;
    service_->pipelines_changed();
    return pipeline ? pipeline->arn : "";
  }

  // Waits until the scheduler has looked at the clock as it is and every build has ended.
  void settle() {
    for (int i = 0; i < 3000; ++i) {
      std::this_thread::sleep_for(20ms);
      if (i > 10 && service_->idle()) {
        return;
      }
    }
    FAIL() << "the service did not settle";
  }

  std::vector<Json> images_of(const std::string& pipeline) {
    Result<std::vector<Json>> images = catalog_->list_image_pipeline_images(pipeline);
    EXPECT_TRUE(images.ok()) << images.error().message;
    return images ? *images : std::vector<Json>{};
  }

  ManualClock clock_{std::chrono::system_clock::from_time_t(1800000000)};  // :00 of a minute
  ServiceOptions options_;
  std::optional<TempDir> tmp_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<state::Catalog> catalog_;
};

TEST_F(ServiceTest, DependencyUpdatesConditionSkipsUntilSomethingChanges) {
  start();
  std::string pipeline =
      create_pipeline("deps", "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE");
  clock_.advance(30s);
  settle();
  EXPECT_TRUE(images_of(pipeline).empty()) << "no slot has come yet";

  clock_.advance(60s);  // a slot: never built before, so it builds
  settle();
  std::vector<Json> images = images_of(pipeline);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["state"]["status"], "AVAILABLE") << images[0].dump(2);
  Result<Json> first = catalog_->get_image(images[0]["arn"].get<std::string>());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["buildType"], "SCHEDULED");

  clock_.advance(60s);  // nothing changed: skipped
  settle();
  EXPECT_EQ(images_of(pipeline).size(), 1u);
  EXPECT_NE(service_->metrics().find("kiln_scheduled_runs_skipped_total 1"), std::string::npos)
      << service_->metrics();

  create_component("two");  // a new build of the component the recipe's x.x.x matches
  clock_.advance(60s);
  settle();
  images = images_of(pipeline);
  ASSERT_EQ(images.size(), 2u);
  Result<Json> second = catalog_->get_image(images[0]["arn"].get<std::string>());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)["kiln"]["resolvedComponents"][0],
            "arn:aws:imagebuilder:local:000000000000:component/stamp/1.0.0/2");
}

TEST_F(ServiceTest, EveryMinuteFiresOncePerSlotAndOnceForAMissedStretch) {
  start();
  std::string pipeline = create_pipeline("minutely", "EXPRESSION_MATCH_ONLY");
  clock_.advance(60s);
  settle();
  EXPECT_EQ(images_of(pipeline).size(), 1u);
  settle();  // the same minute again: nothing new
  EXPECT_EQ(images_of(pipeline).size(), 1u);
  clock_.advance(60s);
  settle();
  EXPECT_EQ(images_of(pipeline).size(), 2u);
  clock_.advance(std::chrono::seconds(600));  // ten slots missed: one run
  settle();
  EXPECT_EQ(images_of(pipeline).size(), 3u);
  Result<Json> got = catalog_->get_image_pipeline(pipeline);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(parse_rfc3339_utc((*got)["dateNextRun"].get<std::string>()), clock_.now() + 60s)
      << got->dump(2);
}

TEST_F(ServiceTest, RestartFailsInterruptedBuildsAndRequeuesPendingOnes) {
  start();
  // An image the previous daemon left in BUILDING with an instance id that no longer exists,
  // and one it left PENDING.
  Result<state::Created> recipe = catalog_->create_image_recipe(
      {{"name", "left"},
       {"semanticVersion", "1.0.0"},
       {"parentImage", "busybox"},
       {"components", {{{"componentArn", create_component("one")}}}}});
  ASSERT_TRUE(recipe.ok()) << recipe.error().message;
  Result<state::Created> infra = catalog_->create_infrastructure_configuration({{"name", "left"}});
  ASSERT_TRUE(infra.ok());
  service_->shutdown();
  service_.reset();
  Json request{{"imageRecipeArn", recipe->arn}, {"infrastructureConfigurationArn", infra->arn}};
  std::string interrupted = catalog_->create_image(request)->arn;
  ASSERT_TRUE(catalog_->update_image(interrupted, [](Json& image) {
    image["kiln"] = {{"instances", {{{"role", "build"}, {"instanceId", "i-0123456789abcdef0"}}}}};
  }));
  ASSERT_TRUE(catalog_->set_image_status(interrupted, state::ImageStatus::kBuilding));
  std::string pending = catalog_->create_image(request)->arn;

  start();
  EXPECT_EQ(service_->recovery().failed, std::vector<std::string>{interrupted});
  EXPECT_EQ(service_->recovery().requeued, std::vector<std::string>{pending});
  Result<Json> failed = catalog_->get_image(interrupted);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ((*failed)["state"]["status"], "FAILED");
  EXPECT_NE((*failed)["state"]["reason"].get<std::string>().find("interrupted"), std::string::npos);
  settle();
  EXPECT_EQ((*catalog_->get_image(pending))["state"]["status"], "AVAILABLE");
}

}  // namespace
}  // namespace kiln::service
