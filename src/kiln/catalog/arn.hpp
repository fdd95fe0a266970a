#pragma once

// Image Builder ARNs and image references (reference: aws-imagebuilder.md 3.1).
//
//   arn:<partition>:imagebuilder:<region>:<account>:<type>/<name>[/<x.y.z>[/<build>]]
//
// partition is "aws" or starts with it ("aws-cn"), account is 12 digits or "aws" (Amazon-owned
// resources), the version may hold `x` wildcards and a build needs an exact version. In an ARN a
// resource's name is written lower case with spaces as '-' (arn_name()), as AWS does.
//
// An image reference (REF on kiln's command line) is an image ARN or "<name>/<x.y.z>[/<build>]".

#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/result.hpp"
#include "kiln/catalog/version.hpp"

namespace kiln::catalog {

enum class ResourceType {
  kImageRecipe,
  kContainerRecipe,
  kInfrastructureConfiguration,
  kDistributionConfiguration,
  kComponent,
  kImage,
  kImagePipeline,
  kLifecyclePolicy,
  kWorkflowBuild,
  kWorkflowTest,
  kWorkflowDistribution,
};

// "image-recipe", "image", "workflow/build", ...
std::string_view resource_type_name(ResourceType type);
std::optional<ResourceType> parse_resource_type(std::string_view name);

// Checks a resource name against AWS's rule: 3 to 128 characters of [-_A-Za-z0-9 ], neither
// starting nor ending with a space. kInvalidArgument names the name and the rule.
Status validate_name(std::string_view name);

// The form `name` takes in an ARN: lower case, spaces as '-' ("Web Server" -> "web-server").
std::string arn_name(std::string_view name);

struct ImageBuilderArn {
  std::string partition = "aws";
  std::string region;
  std::string account;
  ResourceType type = ResourceType::kImage;
  std::string name;                      // the ARN form: [-_a-z0-9], 1 to 128 characters
  std::optional<VersionFilter> version;  // absent: a versionless ARN
  std::optional<uint32_t> build;         // present only with an exact version

  // Parses an ARN; kInvalidArgument says which part is wrong.
  static Result<ImageBuilderArn> parse(std::string_view text);
  std::string str() const;

  bool operator==(const ImageBuilderArn&) const = default;
};

struct ImageReference {
  // The image's name as given; from an ARN, the ARN form of the name (compare with arn_name()).
  std::string name;
  VersionFilter version;               // a versionless ARN means x.x.x
  std::optional<uint32_t> build;       // present only with an exact version
  std::optional<ImageBuilderArn> arn;  // set when the reference was an ARN

  // Parses an image ARN or "<name>/<x.y.z>[/<build>]".
  static Result<ImageReference> parse(std::string_view text);
  // The text it was parsed from, in canonical form.
  std::string str() const;
};

}  // namespace kiln::catalog
