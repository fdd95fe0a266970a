#include "kiln/api/handlers.hpp"

#include <gtest/gtest.h>

#include "kiln/api/api_testing.hpp"
#include "kiln/catalog/aws_error.hpp"
#include "kiln/state/state_testing.hpp"

namespace kiln::api {
namespace {

using state::testing::CatalogTest;

class HandlersTest : public CatalogTest {
 protected:
  void SetUp() override {
    CatalogTest::SetUp();
    backend_ = std::make_unique<testing::RecordingBackend>(
        [this]() -> state::Catalog& { return *catalog_; });
  }

  Reply call(OperationId id, const Json& request) {
    return handle(operation(id), request, *catalog_, *backend_, "req-1");
  }

  // Expects success and returns the body.
  Json ok(OperationId id, const Json& request) {
    Reply reply = call(id, request);
    EXPECT_EQ(reply.status, 200) << operation(id).name << ": " << reply.error_type << ": "
                                 << reply.body.dump();
    return reply.body;
  }

  void expect_error(const Reply& reply, int status, const std::string& type) {
    EXPECT_EQ(reply.status, status) << reply.body.dump();
    EXPECT_EQ(reply.error_type, type) << reply.body.dump();
    EXPECT_TRUE(reply.body.contains("message"));
  }

  std::unique_ptr<testing::RecordingBackend> backend_;
};

Json with_token(Json request, const std::string& token) {
  request["clientToken"] = token;
  return request;
}

TEST(OperationsTest, TableLooksUpByMethodAndPath) {
  const Operation* create = find_operation("PUT", "/CreateComponent");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->id, OperationId::kCreateComponent);
  EXPECT_EQ(create->result_member, "componentBuildVersionArn");
  const Operation* get = find_operation("GET", "/GetComponent");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->query_members, std::vector<std::string_view>{"componentBuildVersionArn"});
  EXPECT_EQ(find_operation("GET", "/CreateComponent"), nullptr);
  EXPECT_EQ(find_operation("PUT", "/createcomponent"), nullptr);
  EXPECT_EQ(find_operation("PUT", "/CreateLifecyclePolicy"), nullptr);
  for (const Operation& op : operations()) {
    EXPECT_EQ(&operation(op.id), &op) << op.name;
  }
}

TEST(ErrorsTest, StatusesFollowTheModel) {
  EXPECT_EQ(error_status("ResourceNotFoundException"), 404);
  EXPECT_EQ(error_status("InvalidParameterValueException"), 400);
  EXPECT_EQ(error_status("ResourceAlreadyExistsException"), 400);
  EXPECT_EQ(error_status("ResourceDependencyException"), 400);
  EXPECT_EQ(error_status("ServiceException"), 500);
  EXPECT_EQ(error_status("ServiceUnavailableException"), 503);
  EXPECT_EQ(error_status("CallRateLimitExceededException"), 429);
  EXPECT_EQ(error_status("ForbiddenException"), 403);
  EXPECT_EQ(error_status("InvalidSignatureException"), 403);
  EXPECT_EQ(error_status("UnknownOperationException"), 404);

  const Operation& del = operation(OperationId::kDeleteComponent);
  const Operation& create = operation(OperationId::kCreateComponent);
  EXPECT_EQ(to_api_error(Error{ErrorCode::kConflict, "used"}, del).type,
            "ResourceDependencyException");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kConflict, "used"}, create).type,
            "ResourceInUseException");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kNotFound, "x"}, create).type,
            "ResourceNotFoundException");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kInvalidArgument, "x"}, create).type,
            "InvalidParameterValueException");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kAlreadyExists, "x"}, create).type,
            "ResourceAlreadyExistsException");
  EXPECT_EQ(to_api_error(Error{ErrorCode::kIo, "disk"}, create).type, "ServiceException");
}

TEST(ParseRequestTest, QueryMembersAndBody) {
  const Operation& get = operation(OperationId::kGetComponent);
  ParsedRequest parsed = parse_request(
      get,
      "componentBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Alocal%3A000000000000%3Acomponent%2Fa%"
      "2F1.0.0%2F1&other=1",
      "ignored on GET");
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.members,
            Json({{"componentBuildVersionArn",
                   "arn:aws:imagebuilder:local:000000000000:component/a/1.0.0/1"}}));

  const Operation& list = operation(OperationId::kListComponents);
  EXPECT_EQ(parse_request(list, "", "").members, Json::object());
  EXPECT_EQ(parse_request(list, "", R"({"maxResults": 2})").members, Json({{"maxResults", 2}}));
  ParsedRequest garbled = parse_request(list, "", "{\"maxResults\": ");
  EXPECT_FALSE(garbled.ok);
  EXPECT_EQ(garbled.error.type, "SerializationException");
  EXPECT_EQ(parse_request(list, "", "[1]").error.type, "SerializationException");
}

// A malformed body is a SerializationException whose message is kiln's: nothing of the JSON
// library's text (which quotes the input) reaches the client.
TEST(ParseRequestTest, MalformedBodiesAreSerializationErrorsInKilnsWords) {
  const Operation& list = operation(OperationId::kListImages);
  for (std::string_view body : {std::string_view("{\"owner\": \"\xff\xfe\"}"),
                                std::string_view("{\"owner\": \"a\xc3\"}"),
                                std::string_view("{\"maxResults\": "),
                                std::string_view("{\"a\": [1, 2,]}"),
                                std::string_view("{\"maxResults\": 358e670}")}) {
    ParsedRequest parsed = parse_request(list, "", body);
    EXPECT_FALSE(parsed.ok) << body;
    EXPECT_EQ(parsed.error.type, "SerializationException") << body;
    EXPECT_EQ(parsed.error.message.find("json.exception"), std::string::npos)
        << parsed.error.message;
    EXPECT_EQ(parsed.error.message.find("last read"), std::string::npos) << parsed.error.message;
    EXPECT_TRUE(Json(parsed.error.message).dump().size() > 0);  // valid UTF-8: dump() works
  }
  // Nesting deep enough to exhaust a worker's stack when written out again is refused.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ParsedRequest nested = parse_request(list, "", "{\"filters\": " + deep + "}");
  EXPECT_FALSE(nested.ok);
  EXPECT_EQ(nested.error.type, "SerializationException");
  EXPECT_TRUE(
      parse_request(
          list,
          "",
          R"({"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})")
          .ok);
  // A query member that decodes to invalid UTF-8.
  const Operation& get = operation(OperationId::kGetComponent);
  ParsedRequest query = parse_request(get, "componentBuildVersionArn=arn%FF", "");
  EXPECT_FALSE(query.ok);
  EXPECT_EQ(query.error.type, "SerializationException");
}

TEST(HttpFormTest, QueryMembersGoAfterThePathTheOthersInTheBody) {
  const Operation& get = operation(OperationId::kGetComponent);
  Json request = {
      {"componentBuildVersionArn", "arn:aws:imagebuilder:local:0:component/a b/1.0.0/1"}};
  HttpForm form = http_form(get, request);
  EXPECT_EQ(form.method, "GET");
  EXPECT_EQ(
      form.target,
      "/GetComponent?componentBuildVersionArn=arn%3Aaws%3Aimagebuilder%3Alocal%3A0%3Acomponent"
      "%2Fa%20b%2F1.0.0%2F1");
  EXPECT_EQ(form.body, "");
  // The server reads back what the client wrote.
  std::string query = form.target.substr(form.target.find('?') + 1);
  EXPECT_EQ(parse_request(get, query, form.body).members, request);

  const Operation& remove = operation(OperationId::kDeleteImage);
  HttpForm deleted = http_form(remove, {{"imageBuildVersionArn", "x/1"}});
  EXPECT_EQ(deleted.method, "DELETE");
  EXPECT_EQ(deleted.target, "/DeleteImage?imageBuildVersionArn=x%2F1");

  const Operation& create = operation(OperationId::kCreateComponent);
  Json members = {{"name", "a"}, {"semanticVersion", "1.0.0"}, {"clientToken", "t"}};
  HttpForm put = http_form(create, members);
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.target, "/CreateComponent");
  EXPECT_EQ(Json::parse(put.body), members);
  EXPECT_EQ(parse_request(create, "", put.body).members, members);

  const Operation& list = operation(OperationId::kListImages);
  EXPECT_EQ(http_form(list, Json::object()).body, "{}");
  EXPECT_EQ(http_form(list, Json::object()).method, "POST");
}

TEST(ErrorsTest, ExceptionNamesBackToErrorCodes) {
  EXPECT_EQ(catalog::error_code_of_exception("ResourceNotFoundException"), ErrorCode::kNotFound);
  EXPECT_EQ(catalog::error_code_of_exception("InvalidParameterValueException"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog::error_code_of_exception("InvalidRequestException"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(catalog::error_code_of_exception("ResourceAlreadyExistsException"),
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(catalog::error_code_of_exception("ResourceDependencyException"), ErrorCode::kConflict);
  EXPECT_EQ(catalog::error_code_of_exception("InvalidSignatureException"),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(catalog::error_code_of_exception("ServiceException"), ErrorCode::kInternal);
  // Every name the catalog gives maps back to its code.
  for (ErrorCode code : {ErrorCode::kNotFound,
                         ErrorCode::kInvalidArgument,
                         ErrorCode::kAlreadyExists,
                         ErrorCode::kConflict,
                         ErrorCode::kUnavailable,
                         ErrorCode::kPermissionDenied}) {
    EXPECT_EQ(catalog::error_code_of_exception(catalog::aws_exception_name(code)), code);
  }
}

TEST_F(HandlersTest, ComponentLifecycle) {
  Json created = ok(OperationId::kCreateComponent,
                    with_token(state::testing::component_request(
                                   "web", "1.0.0", state::testing::build_document()),
                               "t-1"));
  EXPECT_EQ(created["requestId"], "req-1");
  EXPECT_EQ(created["clientToken"], "t-1");
  std::string arn = created["componentBuildVersionArn"];
  EXPECT_EQ(arn, this->arn("component/web/1.0.0/1"));

  Json got = ok(OperationId::kGetComponent, {{"componentBuildVersionArn", arn}});
  EXPECT_EQ(got["component"]["name"], "web");
  EXPECT_EQ(got["component"]["type"], "BUILD");

  Json builds = ok(OperationId::kListComponentBuildVersions,
                   {{"componentVersionArn", this->arn("component/web/1.0.0")}});
  EXPECT_EQ(builds["componentSummaryList"].size(), 1u);
  EXPECT_FALSE(builds.contains("nextToken"));

  Json deleted = ok(OperationId::kDeleteComponent, {{"componentBuildVersionArn", arn}});
  EXPECT_EQ(deleted, Json({{"requestId", "req-1"}, {"componentBuildVersionArn", arn}}));
  expect_error(call(OperationId::kGetComponent, {{"componentBuildVersionArn", arn}}),
               404,
               "ResourceNotFoundException");
}

TEST_F(HandlersTest, ClientTokensMakeCallsIdempotent) {
  Json request = with_token(state::testing::infrastructure_request("builders"), "token-1");
  request["instanceProfileName"] = "kiln";
  Json first = ok(OperationId::kCreateInfrastructureConfiguration, request);
  Json again = ok(OperationId::kCreateInfrastructureConfiguration, request);
  EXPECT_EQ(first["infrastructureConfigurationArn"], again["infrastructureConfigurationArn"]);

  Json changed = request;
  changed["description"] = "another request";
  expect_error(call(OperationId::kCreateInfrastructureConfiguration, changed),
               400,
               "IdempotentParameterMismatchException");

  // CreateImage with the same token builds once.
  Json image = with_token(image_request(), "image-token");
  Json image_first = ok(OperationId::kCreateImage, image);
  Json image_again = ok(OperationId::kCreateImage, image);
  EXPECT_EQ(image_first["imageBuildVersionArn"], image_again["imageBuildVersionArn"]);
  EXPECT_EQ(backend_->images_created.load(), 1);
  Json other = ok(OperationId::kCreateImage, with_token(image_request(), "image-token-2"));
  EXPECT_NE(other["imageBuildVersionArn"], image_first["imageBuildVersionArn"]);
  EXPECT_EQ(backend_->images_created.load(), 2);
}

TEST_F(HandlersTest, ErrorsMapToAwsExceptions) {
  expect_error(call(OperationId::kCreateComponent,
                    with_token(state::testing::component_request(
                                   "web", "1.0", state::testing::build_document()),
                               "t")),
               400,
               "InvalidParameterValueException");
  // A required member missing.
  Json no_token =
      state::testing::component_request("web", "1.0.0", state::testing::build_document());
  no_token.erase("clientToken");
  expect_error(call(OperationId::kCreateComponent, no_token), 400, "InvalidRequestException");
  // A member of the wrong JSON type.
  expect_error(
      call(OperationId::kGetImage, {{"imageBuildVersionArn", 5}}), 400, "SerializationException");
  // dryRun is refused rather than ignored (it would create the component).
  Json dry = with_token(
      state::testing::component_request("web", "1.0.0", state::testing::build_document()), "t");
  dry["dryRun"] = true;
  expect_error(call(OperationId::kCreateComponent, dry), 400, "InvalidRequestException");

  // Deleting a component a recipe uses: ResourceDependencyException.
  std::string component = add_component("used", "1.0.0", state::testing::build_document());
  add_recipe("uses", "1.0.0", Json::array({component}));
  expect_error(call(OperationId::kDeleteComponent, {{"componentBuildVersionArn", component}}),
               400,
               "ResourceDependencyException");
}

TEST_F(HandlersTest, ListsPageWithOpaqueTokens) {
  for (const char* name : {"aaa", "bbb", "ccc"}) {
    add_component(name, "1.0.0", state::testing::build_document());
  }
  std::vector<std::string> names;
  Json request = {{"maxResults", 1}};
  int pages = 0;
  for (;;) {
    Json page = ok(OperationId::kListComponents, request);
    ++pages;
    ASSERT_EQ(page["componentVersionList"].size(), 1u) << page.dump();
    names.push_back(page["componentVersionList"][0]["name"]);
    if (!page.contains("nextToken")) {
      break;
    }
    ASSERT_TRUE(page["nextToken"].is_string());
    request["nextToken"] = page["nextToken"];
    ASSERT_LT(pages, 5);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"aaa", "bbb", "ccc"}));

  Json first = ok(OperationId::kListComponents, {{"maxResults", 2}});
  ASSERT_EQ(first["componentVersionList"].size(), 2u);
  std::string token = first["nextToken"];
  // The token of another call, of the same call with other filters, or made up: refused.
  expect_error(call(OperationId::kListImageRecipes, {{"nextToken", token}}),
               400,
               "InvalidPaginationTokenException");
  expect_error(
      call(OperationId::kListComponents,
           {{"nextToken", token},
            {"maxResults", 2},
            {"filters", Json::array({{{"name", "name"}, {"values", Json::array({"aaa"})}}})}}),
      400,
      "InvalidPaginationTokenException");
  expect_error(call(OperationId::kListComponents, {{"nextToken", "bm90IGEgdG9rZW4="}}),
               400,
               "InvalidPaginationTokenException");
  expect_error(call(OperationId::kListComponents, {{"nextToken", "%%%"}}),
               400,
               "InvalidPaginationTokenException");
  // The same call with another page size continues where the token says.
  Json rest = ok(OperationId::kListComponents, {{"nextToken", token}, {"maxResults", 2}});
  EXPECT_EQ(rest["componentVersionList"].size(), 1u);

  expect_error(call(OperationId::kListComponents, {{"maxResults", 0}}),
               400,
               "InvalidParameterValueException");
  expect_error(call(OperationId::kListComponents, {{"maxResults", 26}}),
               400,
               "InvalidParameterValueException");
  EXPECT_EQ(ok(OperationId::kListComponents, {{"maxResults", 25}})["componentVersionList"].size(),
            3u);
}

TEST_F(HandlersTest, PipelinesImagesAndCancel) {
  Json image = image_request();
  Json pipeline_request = {
      {"name", "nightly"},
      {"imageRecipeArn", image["imageRecipeArn"]},
      {"infrastructureConfigurationArn", image["infrastructureConfigurationArn"]},
      {"schedule", {{"scheduleExpression", "cron(0 3 * * ? *)"}}},
      {"clientToken", "p-1"}};
  Json created = ok(OperationId::kCreateImagePipeline, pipeline_request);
  std::string pipeline = created["imagePipelineArn"];
  EXPECT_EQ(pipeline, arn("image-pipeline/nightly"));
  EXPECT_EQ(backend_->pipeline_changes.load(), 1);

  Json got = ok(OperationId::kGetImagePipeline, {{"imagePipelineArn", pipeline}});
  EXPECT_EQ(got["imagePipeline"]["schedule"]["scheduleExpression"], "cron(0 3 * * ? *)");
  EXPECT_EQ(ok(OperationId::kListImagePipelines, Json::object())["imagePipelineList"].size(), 1u);

  Json started = ok(OperationId::kStartImagePipelineExecution,
                    {{"imagePipelineArn", pipeline}, {"clientToken", "s-1"}});
  std::string image_arn = started["imageBuildVersionArn"];
  Json images = ok(OperationId::kListImagePipelineImages, {{"imagePipelineArn", pipeline}});
  ASSERT_EQ(images["imageSummaryList"].size(), 1u);
  EXPECT_EQ(images["imageSummaryList"][0]["arn"], image_arn);

  Json cancelled = ok(OperationId::kCancelImageCreation,
                      {{"imageBuildVersionArn", image_arn}, {"clientToken", "c-1"}});
  EXPECT_EQ(cancelled["imageBuildVersionArn"], image_arn);
  EXPECT_EQ(
      ok(OperationId::kGetImage, {{"imageBuildVersionArn", image_arn}})["image"]["state"]["status"],
      "CANCELLED");
  // A second cancel with a new token: the image has ended.
  expect_error(call(OperationId::kCancelImageCreation,
                    {{"imageBuildVersionArn", image_arn}, {"clientToken", "c-2"}}),
               400,
               "ResourceInUseException");

  ok(OperationId::kDeleteImage, {{"imageBuildVersionArn", image_arn}});
  ok(OperationId::kDeleteImagePipeline, {{"imagePipelineArn", pipeline}});
  EXPECT_EQ(backend_->pipeline_changes.load(), 2);
  expect_error(call(OperationId::kGetImagePipeline, {{"imagePipelineArn", pipeline}}),
               404,
               "ResourceNotFoundException");
}

TEST_F(HandlersTest, DryRunMustBeABoolean) {
  Json request = with_token(
      state::testing::component_request("web", "1.0.0", state::testing::build_document()), "t-1");
  request["dryRun"] = "yes";
  Reply reply = call(OperationId::kCreateComponent, request);
  expect_error(reply, 400, "SerializationException");
  EXPECT_EQ(reply.body["message"], "dryRun must be true or false");
  request["dryRun"] = true;
  expect_error(call(OperationId::kCreateComponent, request), 400, "InvalidRequestException");
  request["dryRun"] = false;
  ok(OperationId::kCreateComponent, request);
}

// Every member of every operation, given a value of each wrong type (or an odd one of the right
// type): never an exception out of handle() and never a 500.
TEST_F(HandlersTest, MembersOfTheWrongTypeAreClientErrors) {
  const std::vector<Json> wrong = {"yes",
                                   "",
                                   -1,
                                   18446744073709551615ULL,
                                   1.5,
                                   true,
                                   Json::array(),
                                   Json::object(),
                                   Json::array({"x", 1}),
                                   Json({{"a", Json::array({Json::object()})}}),
                                   Json::array({Json::object({{"name", 1}, {"values", "x"}})})};
  size_t calls = 0;
  for (const Operation& op : operations()) {
    Json base = Json::object();
    for (std::string_view member : op.required) {
      base[std::string(member)] = "x";
    }
    for (std::string_view member : op.members) {
      for (const Json& value : wrong) {
        Json request = base;
        request[std::string(member)] = value;
        Reply reply;
        ASSERT_NO_THROW(reply = call(op.id, request))
            << op.name << " " << member << " " << value.dump();
        EXPECT_LT(reply.status, 500)
            << op.name << " " << member << " " << value.dump() << ": " << reply.body.dump();
        ++calls;
      }
    }
  }
  EXPECT_GT(calls, 500u);
}

}  // namespace
}  // namespace kiln::api
