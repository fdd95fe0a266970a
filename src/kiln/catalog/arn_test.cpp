#include "kiln/catalog/arn.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kiln::catalog {
namespace {

ImageBuilderArn arn(const char* text) {
  Result<ImageBuilderArn> parsed = ImageBuilderArn::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
  return parsed.value_or(ImageBuilderArn{});
}

TEST(ImageBuilderArn, ParsesABuildVersionArn) {
  ImageBuilderArn parsed =
      arn("arn:aws:imagebuilder:us-west-2:123456789012:image/web-server/1.2.0/3");
  EXPECT_EQ(parsed.partition, "aws");
  EXPECT_EQ(parsed.region, "us-west-2");
  EXPECT_EQ(parsed.account, "123456789012");
  EXPECT_EQ(parsed.type, ResourceType::kImage);
  EXPECT_EQ(parsed.name, "web-server");
  ASSERT_TRUE(parsed.version.has_value());
  EXPECT_EQ(parsed.version->str(), "1.2.0");
  EXPECT_EQ(parsed.build, 3u);
}

TEST(ImageBuilderArn, ParsesVersionlessAndWildcardArns) {
  ImageBuilderArn versionless = arn("arn:aws:imagebuilder:local:000000000000:image/base");
  EXPECT_FALSE(versionless.version.has_value());
  EXPECT_FALSE(versionless.build.has_value());
  ImageBuilderArn amazon = arn("arn:aws:imagebuilder:us-east-1:aws:component/update-linux/x.x.x");
  EXPECT_EQ(amazon.account, "aws");
  EXPECT_EQ(amazon.type, ResourceType::kComponent);
  EXPECT_EQ(amazon.version->str(), "x.x.x");
}

TEST(ImageBuilderArn, ParsesOtherPartitionsAndWorkflowTypes) {
  ImageBuilderArn cn =
      arn("arn:aws-cn:imagebuilder:cn-north-1:123456789012:workflow/build/wf/1.0.0/1");
  EXPECT_EQ(cn.partition, "aws-cn");
  EXPECT_EQ(cn.type, ResourceType::kWorkflowBuild);
  EXPECT_EQ(cn.name, "wf");
  EXPECT_EQ(cn.build, 1u);
}

TEST(ImageBuilderArn, FormatsWhatItParsed) {
  for (const char* text : {
           "arn:aws:imagebuilder:us-west-2:123456789012:image/web-server/1.2.0/3",
           "arn:aws:imagebuilder:local:000000000000:image/base",
           "arn:aws:imagebuilder:us-east-1:aws:image/amazon-linux-2023-x86/x.x.x",
           "arn:aws:imagebuilder:eu-west-1:123456789012:image-recipe/my_recipe/1.x.x",
           "arn:aws-us-gov:imagebuilder:us-gov-west-1:123456789012:workflow/test/t/2.0.0",
           "arn:aws:imagebuilder:us-east-1:123456789012:infrastructure-configuration/infra",
           "arn:aws:imagebuilder:us-east-1:123456789012:distribution-configuration/dist",
           "arn:aws:imagebuilder:us-east-1:123456789012:container-recipe/c/1.0.0",
           "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/p",
           "arn:aws:imagebuilder:us-east-1:123456789012:lifecycle-policy/l",
           "arn:aws:imagebuilder:us-east-1:123456789012:workflow/distribution/d/1.0.0/2",
       }) {
    EXPECT_EQ(arn(text).str(), text);
  }
}

TEST(ImageBuilderArn, RejectsMalformedArns) {
  for (const char* text : {
           "",
           "arn:aws:imagebuilder:us-east-1:123456789012",
           "arn:aws:ec2:us-east-1:123456789012:image/web",
           "arn:gcp:imagebuilder:us-east-1:123456789012:image/web",
           "arn:aws:imagebuilder::123456789012:image/web",
           "arn:aws:imagebuilder:US-EAST-1:123456789012:image/web",
           "arn:aws:imagebuilder:us-east-1:12345678901:image/web",
           "arn:aws:imagebuilder:us-east-1:1234567890123:image/web",
           "arn:aws:imagebuilder:us-east-1:amazon:image/web",
           "arn:aws:imagebuilder:us-east-1:123456789012:picture/web",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/Web",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web server",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.2",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/x.2.x",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.x.8",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.x.x/1",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.0.0/0",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.0.0/1/2",
           "arn:aws:imagebuilder:us-east-1:123456789012:workflow/web/1.0.0",
           "arn:aws:imagebuilder:us-east-1:123456789012:workflow/build",
           "arn:aws:imagebuilder:us-east-1:123456789012:image/web:1.0.0",
       }) {
    Result<ImageBuilderArn> parsed = ImageBuilderArn::parse(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("invalid ARN"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(ResourceType, NamesRoundTrip) {
  for (ResourceType type : {ResourceType::kImageRecipe,
                            ResourceType::kContainerRecipe,
                            ResourceType::kInfrastructureConfiguration,
                            ResourceType::kDistributionConfiguration,
                            ResourceType::kComponent,
                            ResourceType::kImage,
                            ResourceType::kImagePipeline,
                            ResourceType::kLifecyclePolicy,
                            ResourceType::kWorkflowBuild,
                            ResourceType::kWorkflowTest,
                            ResourceType::kWorkflowDistribution}) {
    EXPECT_EQ(parse_resource_type(resource_type_name(type)), type);
  }
  EXPECT_EQ(parse_resource_type("workflow"), std::nullopt);
}

TEST(Name, FollowsAwsRule) {
  for (const char* name : {"web", "Web Server", "a-b_c", "-_-", "x y", "a  b", "0ab"}) {
    EXPECT_TRUE(validate_name(name).ok()) << name;
  }
  EXPECT_TRUE(validate_name(std::string(128, 'a')).ok());
  for (const char* name : {"", "a", "ab", " ab", "ab ", "a/b", "a.b", "a:b", "ab\t", "é-a"}) {
    Status checked = validate_name(name);
    ASSERT_FALSE(checked.ok()) << name;
    EXPECT_EQ(checked.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(validate_name(std::string(129, 'a')).ok());
}

TEST(Name, ArnFormIsLowerCaseWithDashes) {
  EXPECT_EQ(arn_name("Web Server"), "web-server");
  EXPECT_EQ(arn_name("my_image-2"), "my_image-2");
}

TEST(ImageReference, ParsesNameVersionAndBuild) {
  Result<ImageReference> ref = ImageReference::parse("Web Server/1.2.3/4");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "Web Server");
  EXPECT_EQ(ref->version.str(), "1.2.3");
  EXPECT_EQ(ref->build, 4u);
  EXPECT_FALSE(ref->arn.has_value());
  EXPECT_EQ(ref->str(), "Web Server/1.2.3/4");
}

TEST(ImageReference, ParsesWildcards) {
  Result<ImageReference> ref = ImageReference::parse("web/1.x.x");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->version.str(), "1.x.x");
  EXPECT_FALSE(ref->build.has_value());
}

TEST(ImageReference, ParsesImageArns) {
  Result<ImageReference> ref =
      ImageReference::parse("arn:aws:imagebuilder:local:000000000000:image/web-server/1.2.0/3");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "web-server");
  EXPECT_EQ(ref->version.str(), "1.2.0");
  EXPECT_EQ(ref->build, 3u);
  ASSERT_TRUE(ref->arn.has_value());
  EXPECT_EQ(ref->arn->region, "local");

  Result<ImageReference> versionless =
      ImageReference::parse("arn:aws:imagebuilder:local:000000000000:image/web-server");
  ASSERT_TRUE(versionless.ok()) << versionless.error().message;
  EXPECT_EQ(versionless->version, VersionFilter());
}

TEST(ImageReference, RejectsWhatIsNotAnImageReference) {
  for (const char* text : {"",
                           "web",
                           "web/",
                           "/1.0.0",
                           "we/1.0.0",
                           "web/1.0",
                           "web/x.1.x",
                           "web/1.x.x/2",
                           "web/1.0.0/0",
                           "web/1.0.0/1/2",
                           " web/1.0.0",
                           "arn:aws:imagebuilder:local:000000000000:component/web/1.0.0",
                           "arn:aws:imagebuilder:local:000000000000:image/Web/1.0.0"}) {
    Result<ImageReference> ref = ImageReference::parse(text);
    ASSERT_FALSE(ref.ok()) << text;
    EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace kiln::catalog
