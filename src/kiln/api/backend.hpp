#pragma once

// What the API server asks of the service behind it (`kiln serve`): the calls that start or stop
// builds and the daemon's own state. Everything else the server does with the catalog directly.

#include <nlohmann/json.hpp>
#include <string>

#include "kiln/base/result.hpp"

namespace kiln::api {

using Json = nlohmann::ordered_json;

class Backend {
 public:
  virtual ~Backend() = default;
  // CreateImage: records the image (PENDING) and queues its build; returns the image's ARN.
  virtual Result<std::string> create_image(const Json& request) = 0;
  // StartImagePipelineExecution: a manual build of the pipeline; returns the image's ARN.
  virtual Result<std::string> start_pipeline_execution(const std::string& pipeline_arn) = 0;
  // CancelImageCreation: marks the image CANCELLED and stops its build if it runs.
  virtual Status cancel_image(const std::string& image_arn) = 0;
  // A pipeline was created, updated or deleted: the scheduler looks at it again.
  virtual void pipelines_changed() = 0;
  // GET /metrics: Prometheus text format.
  virtual std::string metrics() = 0;
};

}  // namespace kiln::api
