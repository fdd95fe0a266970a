// The pipeline scheduler: a thread that wakes every tick (or when pipelines change), evaluates
// every pipeline (scheduler.hpp) and starts the builds that are due.

#include "kiln/base/log.hpp"
#include "kiln/build/stage.hpp"
#include "kiln/service/scheduler.hpp"
#include "kiln/service/service_impl.hpp"

namespace kiln::service {

Result<std::string> Service::Impl::start_pipeline(const std::string& pipeline_arn, bool scheduled) {
  if (!accepting()) {
    return make_error(ErrorCode::kUnavailable, "kiln is shutting down: no new builds");
  }
  Json pipeline = KILN_TRY(catalog->get_image_pipeline(pipeline_arn));
  uint32_t min_build = build::first_free_build_of_recipe(
      images->store(), *catalog, pipeline.value("imageRecipeArn", ""));
  state::Created created =
      KILN_TRY(catalog->create_pipeline_image(pipeline_arn, scheduled, min_build));
  enqueue(created.arn);
  return created.arn;
}

Result<bool> Service::Impl::has_dependency_updates(const Json& pipeline) {
  Json recipe = KILN_TRY(catalog->get_image_recipe(pipeline.value("imageRecipeArn", "")));
  std::vector<std::string> resolved;
  for (const Json& entry : recipe.value("components", Json::array())) {
    Result<Json> component = catalog->get_component(entry.value("componentArn", ""));
    resolved.push_back(component ? component->value("arn", "") : std::string("unresolved"));
  }
  std::string parent_digest;
  if (Result<store::ImageVersion> parent = build::resolve_parent(
          *images,
          options.root,
          recipe.value("parentImage", ""),
          [](const std::string&) {},
          false)) {
    parent_digest = parent->manifest.digest.str();
  }
  // The last AVAILABLE image of the pipeline is what the dependencies are compared with.
  std::vector<Json> built =
      KILN_TRY(catalog->list_image_pipeline_images(pipeline.value("arn", "")));
  for (const Json& summary : built) {
    if (summary.value("state", Json::object()).value("status", "") == "AVAILABLE") {
      Json last = KILN_TRY(catalog->get_image(summary.value("arn", "")));
      return dependencies_changed(resolved, parent_digest, &last);
    }
  }
  return true;
}

void Service::Impl::scheduler_pass() {
  std::lock_guard<std::mutex> lock(catalog_mutex);
  Result<std::vector<Json>> listed = catalog->list_image_pipelines(state::ListQuery{});
  if (!listed) {
    KILN_LOG(kWarning, "scheduler: listing pipelines: {}", listed.error().message);
    return;
  }
  SystemTime now = clock.now();
  for (const Json& summary : *listed) {
    std::string arn = summary.value("arn", "");
    Result<Json> pipeline = catalog->get_image_pipeline(arn);
    if (!pipeline) {
      continue;
    }
    Result<Decision> decision = evaluate(*pipeline, now);
    if (!decision) {
      KILN_LOG(kWarning, "scheduler: pipeline {}: {}", arn, decision.error().message);
      continue;
    }
    if (decision->fire) {
      bool build = true;
      std::string condition = pipeline->value("schedule", Json::object())
                                  .value("pipelineExecutionStartCondition",
                                         "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE");
      if (condition != "EXPRESSION_MATCH_ONLY") {
        Result<bool> updates = has_dependency_updates(*pipeline);
        build = !updates || *updates;  // when in doubt, build
      }
      if (build) {
        Result<std::string> started = start_pipeline(arn, true);
        if (started) {
          KILN_LOG(kInfo, "scheduler: pipeline {} started {}", arn, *started);
          std::lock_guard<std::mutex> m(metrics_mutex);
          scheduled_runs++;
        } else {
          KILN_LOG(kWarning, "scheduler: pipeline {}: {}", arn, started.error().message);
        }
      } else {
        KILN_LOG(kInfo, "scheduler: pipeline {}: no dependency updates, no build", arn);
        std::lock_guard<std::mutex> m(metrics_mutex);
        skipped_runs++;
      }
      (void)catalog->set_pipeline_next_run(arn, decision->next, now);
    } else {
      std::optional<SystemTime> stored;
      if (pipeline->contains("dateNextRun") && (*pipeline)["dateNextRun"].is_string()) {
        stored = parse_rfc3339_utc((*pipeline)["dateNextRun"].get<std::string>());
      }
      if (stored != decision->next) {
        (void)catalog->set_pipeline_next_run(arn, decision->next);
      }
    }
  }
}

void Service::Impl::scheduler_loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      scheduler_wake.wait_for(
          lock, options.scheduler_tick, [this] { return shut_down || pipelines_dirty; });
      if (shut_down) {
        return;
      }
      pipelines_dirty = false;
    }
    scheduler_pass();
  }
}

}  // namespace kiln::service
