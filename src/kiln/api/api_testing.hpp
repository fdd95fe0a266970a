#pragma once

// A Backend for tests: CreateImage records the image in a catalog without building it,
// StartImagePipelineExecution records the pipeline's image, CancelImageCreation sets the status,
// metrics are fixed text. It stands in for the daemon's build runner only.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "kiln/api/backend.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::api::testing {

class RecordingBackend final : public Backend {
 public:
  // `catalog` gives the catalog to record in (called under the backend's lock).
  explicit RecordingBackend(std::function<state::Catalog&()> catalog)
      : catalog_(std::move(catalog)) {}

  Result<std::string> create_image(const Json& request) override;
  Result<std::string> start_pipeline_execution(const std::string& pipeline_arn) override;
  Status cancel_image(const std::string& image_arn) override;
  void pipelines_changed() override { ++pipeline_changes; }
  std::string metrics() override;

  std::atomic<int> pipeline_changes{0};
  std::atomic<int> images_created{0};

 private:
  std::mutex mutex_;
  std::function<state::Catalog&()> catalog_;
};

}  // namespace kiln::api::testing
