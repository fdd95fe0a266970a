#include "kiln/api/operations.hpp"

#include <optional>

#include "kiln/state/catalog.hpp"

namespace kiln::api {

namespace {

// The Create operations' members are the catalog's (state::create_request_members, the one list
// of each request's members) plus clientToken: filled in below rather than written again here.
std::vector<Operation> with_create_members(std::vector<Operation> table) {
  for (Operation& op : table) {
    std::optional<catalog::ResourceType> type;
    switch (op.id) {
      case OperationId::kCreateComponent:
        type = catalog::ResourceType::kComponent;
        break;
      case OperationId::kCreateImageRecipe:
        type = catalog::ResourceType::kImageRecipe;
        break;
      case OperationId::kCreateInfrastructureConfiguration:
        type = catalog::ResourceType::kInfrastructureConfiguration;
        break;
      case OperationId::kCreateDistributionConfiguration:
        type = catalog::ResourceType::kDistributionConfiguration;
        break;
      case OperationId::kCreateImagePipeline:
        type = catalog::ResourceType::kImagePipeline;
        break;
      case OperationId::kCreateImage:
        type = catalog::ResourceType::kImage;
        break;
      default:
        break;
    }
    if (type) {
      op.members = state::create_request_members(*type);
      op.members.push_back("clientToken");
      if (op.id == OperationId::kCreateComponent) {
        op.members.push_back("dryRun");  // the one served Create whose model has it
      }
    }
  }
  return table;
}

}  // namespace

const std::vector<Operation>& operations() {
  // Method, path and members as botocore's service-2.json has them (operations_test.cpp).
  static const std::vector<Operation> table = with_create_members({
      {OperationId::kCreateComponent,
       OperationKind::kCreate,
       "CreateComponent",
       "PUT",
       "/CreateComponent",
       {},
       {},
       {"name", "semanticVersion", "platform", "clientToken"},
       "componentBuildVersionArn"},
      {OperationId::kGetComponent,
       OperationKind::kGet,
       "GetComponent",
       "GET",
       "/GetComponent",
       {"componentBuildVersionArn"},
       {"componentBuildVersionArn"},
       {"componentBuildVersionArn"},
       "component"},
      {OperationId::kListComponents,
       OperationKind::kList,
       "ListComponents",
       "POST",
       "/ListComponents",
       {},
       {"owner", "filters", "byName", "maxResults", "nextToken"},
       {},
       "componentVersionList"},
      {OperationId::kListComponentBuildVersions,
       OperationKind::kList,
       "ListComponentBuildVersions",
       "POST",
       "/ListComponentBuildVersions",
       {},
       {"componentVersionArn", "maxResults", "nextToken"},
       {},
       "componentSummaryList"},
      {OperationId::kDeleteComponent,
       OperationKind::kDelete,
       "DeleteComponent",
       "DELETE",
       "/DeleteComponent",
       {"componentBuildVersionArn"},
       {"componentBuildVersionArn"},
       {"componentBuildVersionArn"},
       "componentBuildVersionArn"},
      {OperationId::kCreateImageRecipe,
       OperationKind::kCreate,
       "CreateImageRecipe",
       "PUT",
       "/CreateImageRecipe",
       {},
       {},
       {"name", "semanticVersion", "parentImage", "clientToken"},
       "imageRecipeArn"},
      {OperationId::kGetImageRecipe,
       OperationKind::kGet,
       "GetImageRecipe",
       "GET",
       "/GetImageRecipe",
       {"imageRecipeArn"},
       {"imageRecipeArn"},
       {"imageRecipeArn"},
       "imageRecipe"},
      {OperationId::kListImageRecipes,
       OperationKind::kList,
       "ListImageRecipes",
       "POST",
       "/ListImageRecipes",
       {},
       {"owner", "filters", "maxResults", "nextToken"},
       {},
       "imageRecipeSummaryList"},
      {OperationId::kDeleteImageRecipe,
       OperationKind::kDelete,
       "DeleteImageRecipe",
       "DELETE",
       "/DeleteImageRecipe",
       {"imageRecipeArn"},
       {"imageRecipeArn"},
       {"imageRecipeArn"},
       "imageRecipeArn"},
      {OperationId::kCreateInfrastructureConfiguration,
       OperationKind::kCreate,
       "CreateInfrastructureConfiguration",
       "PUT",
       "/CreateInfrastructureConfiguration",
       {},
       {},
       {"name", "instanceProfileName", "clientToken"},
       "infrastructureConfigurationArn"},
      {OperationId::kUpdateInfrastructureConfiguration,
       OperationKind::kUpdate,
       "UpdateInfrastructureConfiguration",
       "PUT",
       "/UpdateInfrastructureConfiguration",
       {},
       {"infrastructureConfigurationArn",
        "description",
        "instanceTypes",
        "instanceProfileName",
        "securityGroupIds",
        "subnetId",
        "logging",
        "keyPair",
        "terminateInstanceOnFailure",
        "snsTopicArn",
        "resourceTags",
        "instanceMetadataOptions",
        "placement",
        "clientToken"},
       {"infrastructureConfigurationArn", "instanceProfileName", "clientToken"},
       "infrastructureConfigurationArn"},
      {OperationId::kGetInfrastructureConfiguration,
       OperationKind::kGet,
       "GetInfrastructureConfiguration",
       "GET",
       "/GetInfrastructureConfiguration",
       {"infrastructureConfigurationArn"},
       {"infrastructureConfigurationArn"},
       {"infrastructureConfigurationArn"},
       "infrastructureConfiguration"},
      {OperationId::kListInfrastructureConfigurations,
       OperationKind::kList,
       "ListInfrastructureConfigurations",
       "POST",
       "/ListInfrastructureConfigurations",
       {},
       {"filters", "maxResults", "nextToken"},
       {},
       "infrastructureConfigurationSummaryList"},
      {OperationId::kDeleteInfrastructureConfiguration,
       OperationKind::kDelete,
       "DeleteInfrastructureConfiguration",
       "DELETE",
       "/DeleteInfrastructureConfiguration",
       {"infrastructureConfigurationArn"},
       {"infrastructureConfigurationArn"},
       {"infrastructureConfigurationArn"},
       "infrastructureConfigurationArn"},
      {OperationId::kCreateDistributionConfiguration,
       OperationKind::kCreate,
       "CreateDistributionConfiguration",
       "PUT",
       "/CreateDistributionConfiguration",
       {},
       {},
       {"name", "distributions", "clientToken"},
       "distributionConfigurationArn"},
      {OperationId::kUpdateDistributionConfiguration,
       OperationKind::kUpdate,
       "UpdateDistributionConfiguration",
       "PUT",
       "/UpdateDistributionConfiguration",
       {},
       {"distributionConfigurationArn", "description", "distributions", "clientToken"},
       {"distributionConfigurationArn", "distributions", "clientToken"},
       "distributionConfigurationArn"},
      {OperationId::kGetDistributionConfiguration,
       OperationKind::kGet,
       "GetDistributionConfiguration",
       "GET",
       "/GetDistributionConfiguration",
       {"distributionConfigurationArn"},
       {"distributionConfigurationArn"},
       {"distributionConfigurationArn"},
       "distributionConfiguration"},
      {OperationId::kListDistributionConfigurations,
       OperationKind::kList,
       "ListDistributionConfigurations",
       "POST",
       "/ListDistributionConfigurations",
       {},
       {"filters", "maxResults", "nextToken"},
       {},
       "distributionConfigurationSummaryList"},
      {OperationId::kDeleteDistributionConfiguration,
       OperationKind::kDelete,
       "DeleteDistributionConfiguration",
       "DELETE",
       "/DeleteDistributionConfiguration",
       {"distributionConfigurationArn"},
       {"distributionConfigurationArn"},
       {"distributionConfigurationArn"},
       "distributionConfigurationArn"},
      {OperationId::kCreateImagePipeline,
       OperationKind::kCreate,
       "CreateImagePipeline",
       "PUT",
       "/CreateImagePipeline",
       {},
       {},
       {"name", "infrastructureConfigurationArn", "clientToken"},
       "imagePipelineArn"},
      {OperationId::kUpdateImagePipeline,
       OperationKind::kUpdate,
       "UpdateImagePipeline",
       "PUT",
       "/UpdateImagePipeline",
       {},
       {"imagePipelineArn",
        "description",
        "imageRecipeArn",
        "containerRecipeArn",
        "infrastructureConfigurationArn",
        "distributionConfigurationArn",
        "imageTestsConfiguration",
        "enhancedImageMetadataEnabled",
        "schedule",
        "status",
        "clientToken",
        "imageScanningConfiguration",
        "workflows",
        "loggingConfiguration",
        "executionRole",
        "imageTags"},
       {"imagePipelineArn", "infrastructureConfigurationArn", "clientToken"},
       "imagePipelineArn"},
      {OperationId::kGetImagePipeline,
       OperationKind::kGet,
       "GetImagePipeline",
       "GET",
       "/GetImagePipeline",
       {"imagePipelineArn"},
       {"imagePipelineArn"},
       {"imagePipelineArn"},
       "imagePipeline"},
      {OperationId::kListImagePipelines,
       OperationKind::kList,
       "ListImagePipelines",
       "POST",
       "/ListImagePipelines",
       {},
       {"filters", "maxResults", "nextToken"},
       {},
       "imagePipelineList"},
      {OperationId::kDeleteImagePipeline,
       OperationKind::kDelete,
       "DeleteImagePipeline",
       "DELETE",
       "/DeleteImagePipeline",
       {"imagePipelineArn"},
       {"imagePipelineArn"},
       {"imagePipelineArn"},
       "imagePipelineArn"},
      {OperationId::kStartImagePipelineExecution,
       OperationKind::kAction,
       "StartImagePipelineExecution",
       "PUT",
       "/StartImagePipelineExecution",
       {},
       {"imagePipelineArn", "clientToken", "tags"},
       {"imagePipelineArn", "clientToken"},
       "imageBuildVersionArn"},
      {OperationId::kListImagePipelineImages,
       OperationKind::kList,
       "ListImagePipelineImages",
       "POST",
       "/ListImagePipelineImages",
       {},
       {"imagePipelineArn", "filters", "maxResults", "nextToken"},
       {"imagePipelineArn"},
       "imageSummaryList"},
      {OperationId::kCreateImage,
       OperationKind::kCreate,
       "CreateImage",
       "PUT",
       "/CreateImage",
       {},
       {},
       {"infrastructureConfigurationArn", "clientToken"},
       "imageBuildVersionArn"},
      {OperationId::kGetImage,
       OperationKind::kGet,
       "GetImage",
       "GET",
       "/GetImage",
       {"imageBuildVersionArn"},
       {"imageBuildVersionArn"},
       {"imageBuildVersionArn"},
       "image"},
      {OperationId::kListImages,
       OperationKind::kList,
       "ListImages",
       "POST",
       "/ListImages",
       {},
       {"owner", "filters", "byName", "maxResults", "nextToken", "includeDeprecated"},
       {},
       "imageVersionList"},
      {OperationId::kListImageBuildVersions,
       OperationKind::kList,
       "ListImageBuildVersions",
       "POST",
       "/ListImageBuildVersions",
       {},
       {"imageVersionArn", "filters", "maxResults", "nextToken"},
       {},
       "imageSummaryList"},
      {OperationId::kCancelImageCreation,
       OperationKind::kAction,
       "CancelImageCreation",
       "PUT",
       "/CancelImageCreation",
       {},
       {"imageBuildVersionArn", "clientToken"},
       {"imageBuildVersionArn", "clientToken"},
       "imageBuildVersionArn"},
      {OperationId::kDeleteImage,
       OperationKind::kDelete,
       "DeleteImage",
       "DELETE",
       "/DeleteImage",
       {"imageBuildVersionArn"},
       {"imageBuildVersionArn"},
       {"imageBuildVersionArn"},
       "imageBuildVersionArn"},
  });
  return table;
}

const Operation* find_operation(std::string_view method, std::string_view path) {
  for (const Operation& op : operations()) {
    if (op.method == method && op.path == path) {
      return &op;
    }
  }
  return nullptr;
}

const Operation& operation(OperationId id) {
  for (const Operation& op : operations()) {
    if (op.id == id) {
      return op;
    }
  }
  // Every OperationId has a row.
  return operations().front();
}

const Operation* find_operation_named(std::string_view name) {
  for (const Operation& op : operations()) {
    if (op.name == name) {
      return &op;
    }
  }
  return nullptr;
}

}  // namespace kiln::api
