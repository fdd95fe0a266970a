#pragma once

// The operations of the `imagebuilder` service model (botocore's service-2.json, 2019-12-02)
// that kiln serves: each with its HTTP method and path (requestUri), the input members that come
// from the query string, the required members, and the output member that carries the result.
// operations_test.cpp checks this table against the model when botocore's copy is installed.

#include <string_view>
#include <vector>

namespace kiln::api {

enum class OperationId {
  kCreateComponent,
  kGetComponent,
  kListComponents,
  kListComponentBuildVersions,
  kDeleteComponent,
  kCreateImageRecipe,
  kGetImageRecipe,
  kListImageRecipes,
  kDeleteImageRecipe,
  kCreateInfrastructureConfiguration,
  kUpdateInfrastructureConfiguration,
  kGetInfrastructureConfiguration,
  kListInfrastructureConfigurations,
  kDeleteInfrastructureConfiguration,
  kCreateDistributionConfiguration,
  kUpdateDistributionConfiguration,
  kGetDistributionConfiguration,
  kListDistributionConfigurations,
  kDeleteDistributionConfiguration,
  kCreateImagePipeline,
  kUpdateImagePipeline,
  kGetImagePipeline,
  kListImagePipelines,
  kDeleteImagePipeline,
  kStartImagePipelineExecution,
  kListImagePipelineImages,
  kCreateImage,
  kGetImage,
  kListImages,
  kListImageBuildVersions,
  kCancelImageCreation,
  kDeleteImage,
};

// What an operation does, which decides how its response is shaped:
//   kCreate/kUpdate/kAction  {requestId, clientToken, <result>: ARN}, idempotent by clientToken
//   kGet                     {requestId, <result>: object}
//   kList                    {requestId, <result>: [...], nextToken}
//   kDelete                  {requestId, <result>: ARN}
enum class OperationKind { kCreate, kUpdate, kAction, kGet, kList, kDelete };

struct Operation {
  OperationId id;
  OperationKind kind;
  std::string_view name;    // "CreateComponent"
  std::string_view method;  // "PUT"
  std::string_view path;    // "/CreateComponent"
  // Members read from the query string (location "querystring"); the rest come from the JSON
  // body (PUT and POST).
  std::vector<std::string_view> query_members;
  // Every input member, and the required ones.
  std::vector<std::string_view> members;
  std::vector<std::string_view> required;
  // The output member holding the ARN, object or list.
  std::string_view result_member;
};

// Every operation kiln serves, in the model's order of resources.
const std::vector<Operation>& operations();
// The operation of a method and path (exact, case-sensitive); nullptr when none.
const Operation* find_operation(std::string_view method, std::string_view path);
const Operation& operation(OperationId id);
// The operation of a name ("CreateComponent"); nullptr when kiln does not serve it.
const Operation* find_operation_named(std::string_view name);

// The maximum of maxResults for every list call kiln serves (the model's 1-25); also the default.
inline constexpr int kMaxResults = 25;

}  // namespace kiln::api
