#include "kiln/cli/resource_client.hpp"

#include <cstdlib>

#include "kiln/api/handlers.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/build/recovery.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/catalog/aws_error.hpp"
#include "kiln/net/http_transfer.hpp"

#ifndef KILN_VERSION
#define KILN_VERSION "0.0.0"
#endif

namespace kiln::cli {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

Error api_error(const std::string& type, const std::string& message) {
  return Error{catalog::error_code_of_exception(type), type + ": " + message};
}

Result<const api::Operation*> find_operation(std::string_view name) {
  const api::Operation* op = api::find_operation_named(name);
  if (op == nullptr) {
    return make_error(ErrorCode::kInternal, "{} is not an operation of the API", name);
  }
  return op;
}

// The request with a clientToken when the operation takes one and none was given.
Json with_client_token(const api::Operation& op, const Json& request) {
  Json members = request;
  bool takes_token =
      std::find(op.members.begin(), op.members.end(), "clientToken") != op.members.end();
  if (takes_token && (!members.contains("clientToken") || members["clientToken"].is_null())) {
    members["clientToken"] = new_request_id();
  }
  return members;
}

// The backend of the embedded client: images are recorded, and the verb that created one builds
// it in the foreground (run_image_build); there is no scheduler and no metrics.
class EmbeddedBackend : public api::Backend {
 public:
  EmbeddedBackend(Context& context, state::Catalog& catalog)
      : context_(context), catalog_(catalog) {}

  Result<std::string> create_image(const Json& request) override {
    uint32_t min_build = KILN_TRY(min_build_of(request.value("imageRecipeArn", "")));
    return KILN_TRY(catalog_.create_image(request, min_build, stamp())).arn;
  }
  Result<std::string> start_pipeline_execution(const std::string& pipeline_arn) override {
    Json pipeline = KILN_TRY(catalog_.get_image_pipeline(pipeline_arn));
    uint32_t min_build = KILN_TRY(min_build_of(pipeline.value("imageRecipeArn", "")));
    return KILN_TRY(catalog_.create_pipeline_image(pipeline_arn, false, min_build, stamp())).arn;
  }
  Status cancel_image(const std::string& image_arn) override {
    return build::cancel_image(catalog_, image_arn, "Cancelled by cancel-image-creation");
  }
  void pipelines_changed() override {}
  std::string metrics() override { return ""; }

 private:
  // This process builds the image it creates (in the foreground): recorded with the image, in
  // the transaction that creates it, so that a command killed at any moment leaves an image
  // recovery fails rather than a PENDING one a daemon would take for its own queue.
  static Json stamp() { return Json{{"builder", build::builder_json(build::this_process())}}; }

  Result<uint32_t> min_build_of(const std::string& recipe_arn) {
    image::Images* images = KILN_TRY(context_.images());
    return build::first_free_build_of_recipe(images->store(), catalog_, recipe_arn);
  }

  Context& context_;
  state::Catalog& catalog_;
};

class EmbeddedClient : public ResourceClient {
 public:
  EmbeddedClient(Context& context, state::Catalog& catalog)
      : catalog_(catalog), backend_(context, catalog) {}

  Result<Json> call(std::string_view operation, const Json& request) override {
    const api::Operation* op = KILN_TRY(find_operation(operation));
    api::Reply reply =
        api::handle(*op, with_client_token(*op, request), catalog_, backend_, new_request_id());
    if (!reply.error_type.empty()) {
      return api_error(reply.error_type, reply.body.value("message", ""));
    }
    return std::move(reply.body);
  }
  bool builds_locally() const override { return true; }

 private:
  state::Catalog& catalog_;
  EmbeddedBackend backend_;
};

class RemoteClient : public ResourceClient {
 public:
  explicit RemoteClient(RemoteSettings settings) : settings_(std::move(settings)) {}

  Result<Json> call(std::string_view operation, const Json& request) override {
    const api::Operation* op = KILN_TRY(find_operation(operation));
    api::HttpForm form = api::http_form(*op, with_client_token(*op, request));
    net::HttpRequest http;
    http.method = form.method;
    http.url = settings_.endpoint + form.target;
    if (!form.body.empty()) {
      http.headers.push_back("Content-Type: application/json");
    }
    http.body = form.body;
    http.user_agent = "kiln/" KILN_VERSION;
    http.signing = net::AwsSigning{
        settings_.region, "imagebuilder", settings_.access_key_id, settings_.secret_access_key};
    std::string body;
    Result<net::HttpResponse> response = net::http_perform(
        http,
        [&](std::string_view chunk) {
          body.append(chunk);
          return ok_status();
        },
        net::TransferControl{});
    if (!response) {
      return make_error(response.error().code,
                        "cannot reach the kiln daemon at {} (KILN_ENDPOINT): {}",
                        settings_.endpoint,
                        response.error().message);
    }
    if (response->status != 200) {
      return error_from_response(
          response->status, response->header("x-amzn-errortype"), response->error_body);
    }
    Json parsed = Json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return make_error(ErrorCode::kIo,
                        "the kiln daemon at {} answered {} with something that is not a JSON "
                        "object",
                        settings_.endpoint,
                        operation);
    }
    return parsed;
  }
  bool builds_locally() const override { return false; }

 private:
  RemoteSettings settings_;
};

}  // namespace

Result<std::optional<RemoteSettings>> remote_settings_from_environment() {
  std::string endpoint = env("KILN_ENDPOINT");
  if (endpoint.empty()) {
    return std::optional<RemoteSettings>();
  }
  if (!starts_with(endpoint, "http://") && !starts_with(endpoint, "https://")) {
    return make_error(ErrorCode::kInvalidArgument,
                      "KILN_ENDPOINT={}: expected http://HOST:PORT or https://HOST:PORT",
                      endpoint);
  }
  while (endpoint.ends_with('/')) {
    endpoint.pop_back();
  }
  RemoteSettings settings;
  settings.endpoint = endpoint;
  settings.region = env("KILN_REGION").empty() ? "local" : env("KILN_REGION");
  settings.access_key_id = env("KILN_ACCESS_KEY_ID");
  settings.secret_access_key = env("KILN_SECRET_ACCESS_KEY");
  if (settings.access_key_id.empty() && settings.secret_access_key.empty()) {
    settings.access_key_id = env("AWS_ACCESS_KEY_ID");
    settings.secret_access_key = env("AWS_SECRET_ACCESS_KEY");
  }
  if (settings.access_key_id.empty() || settings.secret_access_key.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "KILN_ENDPOINT is set: the daemon needs a key, KILN_ACCESS_KEY_ID and "
                      "KILN_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  return std::optional<RemoteSettings>(std::move(settings));
}

Result<std::unique_ptr<ResourceClient>> open_resource_client(Context& context) {
  std::optional<RemoteSettings> remote = KILN_TRY(remote_settings_from_environment());
  if (remote) {
    return std::unique_ptr<ResourceClient>(std::make_unique<RemoteClient>(std::move(*remote)));
  }
  state::Catalog* catalog = KILN_TRY(context.catalog());
  return std::unique_ptr<ResourceClient>(std::make_unique<EmbeddedClient>(context, *catalog));
}

Error error_from_response(long status, std::string_view error_type, std::string_view body) {
  Json parsed = Json::parse(body, nullptr, false);
  if (!parsed.is_object()) {
    parsed = Json::object();
  }
  std::string type(error_type.substr(0, error_type.find(':')));
  if (type.empty()) {
    std::string body_type = parsed.value("__type", "");
    type = body_type.substr(body_type.rfind('#') + 1);  // "aws.protocols#Name" -> "Name"
  }
  std::string message = parsed.value("message", parsed.value("Message", ""));
  if (message.empty()) {
    message = std::string(trim(body.substr(0, 200)));
  }
  if (type.empty()) {
    return Error{net::error_code_for_http_status(status),
                 fmt::format("HTTP {}: {}", status, message)};
  }
  return api_error(type, message);
}

}  // namespace kiln::cli
