#include "kiln/catalog/arn.hpp"

#include <array>
#include <vector>

#include "kiln/base/strings.hpp"

namespace kiln::catalog {
namespace {

struct TypeName {
  ResourceType type;
  std::string_view name;
};

constexpr std::array<TypeName, 11> kTypeNames = {{
    {ResourceType::kImageRecipe, "image-recipe"},
    {ResourceType::kContainerRecipe, "container-recipe"},
    {ResourceType::kInfrastructureConfiguration, "infrastructure-configuration"},
    {ResourceType::kDistributionConfiguration, "distribution-configuration"},
    {ResourceType::kComponent, "component"},
    {ResourceType::kImage, "image"},
    {ResourceType::kImagePipeline, "image-pipeline"},
    {ResourceType::kLifecyclePolicy, "lifecycle-policy"},
    {ResourceType::kWorkflowBuild, "workflow/build"},
    {ResourceType::kWorkflowTest, "workflow/test"},
    {ResourceType::kWorkflowDistribution, "workflow/distribution"},
}};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_name_edge_char(char c) {
  return is_alnum(c) || c == '-' || c == '_';
}

bool all_of(std::string_view text, bool (*pred)(char)) {
  for (char c : text) {
    if (!pred(c)) {
      return false;
    }
  }
  return true;
}

bool is_arn_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_region_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

Error invalid_arn(std::string_view text, std::string_view why) {
  return make_error(ErrorCode::kInvalidArgument, "invalid ARN \"{}\": {}", text, why);
}

bool valid_account(std::string_view account) {
  return account == "aws" || (account.size() == 12 && all_of(account, is_digit));
}

// Splits "<type>/<name>[/<version>[/<build>]]" after the type, which may itself hold a '/'.
Result<ImageBuilderArn> parse_resource(std::string_view text, std::string_view resource) {
  std::vector<std::string> parts = split(resource, '/');
  size_t type_parts = parts[0] == "workflow" ? 2 : 1;
  if (parts.size() <= type_parts || parts.size() > type_parts + 3) {
    return invalid_arn(text, "expected <type>/<name>[/<x.y.z>[/<build>]] after the account");
  }
  std::string type_name = parts[0];
  if (type_parts == 2) {
    type_name += "/" + parts[1];
  }
  ImageBuilderArn arn;
  std::optional<ResourceType> type = parse_resource_type(type_name);
  if (!type) {
    return invalid_arn(text, fmt::format("unknown resource type \"{}\"", type_name));
  }
  arn.type = *type;
  arn.name = parts[type_parts];
  if (arn.name.empty() || arn.name.size() > 128 || !all_of(arn.name, is_arn_name_char)) {
    return invalid_arn(text, "a name in an ARN is 1 to 128 characters of [-_a-z0-9]");
  }
  if (parts.size() > type_parts + 1) {
    arn.version = KILN_TRY_CTX(VersionFilter::parse(parts[type_parts + 1]),
                               fmt::format("invalid ARN \"{}\"", text));
  }
  if (parts.size() > type_parts + 2) {
    if (!arn.version->is_exact()) {
      return invalid_arn(text, "a build number needs an exact version");
    }
    arn.build = KILN_TRY_CTX(parse_build_number(parts[type_parts + 2]),
                             fmt::format("invalid ARN \"{}\"", text));
  }
  return arn;
}

}  // namespace

std::string_view resource_type_name(ResourceType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) {
      return entry.name;
    }
  }
  return "image";
}

std::optional<ResourceType> parse_resource_type(std::string_view name) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.name == name) {
      return entry.type;
    }
  }
  return std::nullopt;
}

Status validate_name(std::string_view name) {
  auto middle_ok = [](char c) { return is_name_edge_char(c) || c == ' '; };
  bool ok = name.size() >= 3 && name.size() <= 128 && is_name_edge_char(name.front()) &&
            is_name_edge_char(name.back());
  for (size_t i = 1; ok && i + 1 < name.size(); ++i) {
    ok = middle_ok(name[i]);
  }
  if (!ok) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid name \"{}\": a name is 3 to 128 characters of letters, digits, "
                      "'-', '_' and spaces, and neither starts nor ends with a space",
                      name);
  }
  return ok_status();
}

std::string arn_name(std::string_view name) {
  std::string out = to_lower(name);
  for (char& c : out) {
    if (c == ' ') {
      c = '-';
    }
  }
  return out;
}

Result<ImageBuilderArn> ImageBuilderArn::parse(std::string_view text) {
  std::vector<std::string> fields = split(text, ':');
  if (fields.size() != 6 || fields[0] != "arn" || fields[2] != "imagebuilder") {
    return invalid_arn(
        text, "expected arn:<partition>:imagebuilder:<region>:<account>:<type>/<name>[/...]");
  }
  if (!starts_with(fields[1], "aws")) {
    return invalid_arn(text, "the partition must start with \"aws\"");
  }
  if (fields[3].empty() || !all_of(fields[3], is_region_char)) {
    return invalid_arn(text, "the region must be lower-case letters, digits and '-'");
  }
  if (!valid_account(fields[4])) {
    return invalid_arn(text, "the account must be 12 digits or \"aws\"");
  }
  ImageBuilderArn arn = KILN_TRY(parse_resource(text, fields[5]));
  arn.partition = fields[1];
  arn.region = fields[3];
  arn.account = fields[4];
  return arn;
}

std::string ImageBuilderArn::str() const {
  std::string out = fmt::format("arn:{}:imagebuilder:{}:{}:{}/{}",
                                partition,
                                region,
                                account,
                                resource_type_name(type),
                                name);
  if (version) {
    out += "/" + version->str();
  }
  if (build) {
    out += "/" + std::to_string(*build);
  }
  return out;
}

Result<ImageReference> ImageReference::parse(std::string_view text) {
  ImageReference ref;
  if (starts_with(text, "arn:")) {
    ImageBuilderArn arn = KILN_TRY(ImageBuilderArn::parse(text));
    if (arn.type != ResourceType::kImage) {
      return invalid_arn(text, "an image reference must name an image (\":image/\")");
    }
    ref.name = arn.name;
    ref.version = arn.version.value_or(VersionFilter());
    ref.build = arn.build;
    ref.arn = std::move(arn);
    return ref;
  }
  std::vector<std::string> parts = split(text, '/');
  if (parts.size() < 2 || parts.size() > 3) {
    return make_error(ErrorCode::kInvalidArgument,
                      "invalid image reference \"{}\": expected an image ARN or "
                      "<name>/<x.y.z>[/<build>]",
                      text);
  }
  std::string context = fmt::format("invalid image reference \"{}\"", text);
  KILN_TRY_CTX(validate_name(parts[0]), context);
  ref.name = parts[0];
  ref.version = KILN_TRY_CTX(VersionFilter::parse(parts[1]), context);
  if (parts.size() == 3) {
    if (!ref.version.is_exact()) {
      return make_error(
          ErrorCode::kInvalidArgument, "{}: a build number needs an exact version", context);
    }
    ref.build = KILN_TRY_CTX(parse_build_number(parts[2]), context);
  }
  return ref;
}

std::string ImageReference::str() const {
  if (arn) {
    return arn->str();
  }
  std::string out = name + "/" + version.str();
  if (build) {
    out += "/" + std::to_string(*build);
  }
  return out;
}

}  // namespace kiln::catalog
