#include "kiln/api/api_testing.hpp"

namespace kiln::api::testing {

Result<std::string> RecordingBackend::create_image(const Json& request) {
  std::lock_guard lock(mutex_);
  Json body = request;
  body.erase("clientToken");
  state::Created created = KILN_TRY(catalog_().create_image(body));
  ++images_created;
  return created.arn;
}

Result<std::string> RecordingBackend::start_pipeline_execution(const std::string& pipeline_arn) {
  std::lock_guard lock(mutex_);
  state::Created created = KILN_TRY(catalog_().create_pipeline_image(pipeline_arn, false));
  ++images_created;
  return created.arn;
}

Status RecordingBackend::cancel_image(const std::string& image_arn) {
  std::lock_guard lock(mutex_);
  KILN_TRY(catalog_().set_image_status(
      image_arn, state::ImageStatus::kCancelled, "Cancelled by CancelImageCreation"));
  return ok_status();
}

std::string RecordingBackend::metrics() {
  return "# HELP kiln_builds_running Builds running now.\n"
         "# TYPE kiln_builds_running gauge\n"
         "kiln_builds_running 0\n";
}

}  // namespace kiln::api::testing
