#include "kiln/cli/output.hpp"

#include <gtest/gtest.h>

#include "kiln/cli/resource_common.hpp"

namespace kiln::cli {
namespace {

TEST(YamlToJson, PlainScalarsTakeCoreTypesQuotedOnesStayStrings) {
  Result<Json> j = yaml_to_json(
      "a: 1\nb: -2\nc: 1.5\nd: true\ne: False\nf: ~\ng: null\nh: '1'\ni: \"true\"\n"
      "j: 1.0.0\nk: hello world\nl: [x, 2]\nm: {n: o}\n");
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ((*j)["a"], 1);
  EXPECT_EQ((*j)["b"], -2);
  EXPECT_DOUBLE_EQ((*j)["c"].get<double>(), 1.5);
  EXPECT_EQ((*j)["d"], true);
  EXPECT_EQ((*j)["e"], false);
  EXPECT_TRUE((*j)["f"].is_null());
  EXPECT_TRUE((*j)["g"].is_null());
  EXPECT_EQ((*j)["h"], "1");
  EXPECT_EQ((*j)["i"], "true");
  EXPECT_EQ((*j)["j"], "1.0.0");
  EXPECT_EQ((*j)["k"], "hello world");
  EXPECT_EQ((*j)["l"], Json::array({"x", 2}));
  EXPECT_EQ((*j)["m"]["n"], "o");
}

TEST(YamlToJson, BlockScalarsAreStrings) {
  Result<Json> j = yaml_to_json("data: |\n  name: doc\n  phases: []\nnum: |\n  42\n");
  ASSERT_TRUE(j);
  EXPECT_EQ((*j)["data"], "name: doc\nphases: []\n");
  EXPECT_EQ((*j)["num"], "42\n");
}

TEST(YamlToJson, KeepsMemberOrder) {
  Result<Json> j = yaml_to_json("z: 1\na: 2\nm: 3\n");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->dump(), R"({"z":1,"a":2,"m":3})");
}

TEST(YamlToJson, SyntaxErrorsNameTheLine) {
  Result<Json> j = yaml_to_json("a: 1\nb: [unclosed\n");
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(j.error().message.find("line "), std::string::npos) << j.error().message;
}

TEST(JsonToYaml, RoundTripsTrickyStrings) {
  Json value = {{"name", "hello"},
                {"version", "1.0.0"},
                {"looksLikeNumber", "42"},
                {"looksLikeFloat", "1.5"},
                {"looksLikeBool", "true"},
                {"looksLikeNull", "null"},
                {"empty", ""},
                {"spaces", "  padded  "},
                {"colon", "a: b"},
                {"hash", "# not a comment"},
                {"data", "name: doc\nphases:\n  - name: build\n"},
                {"noFinalNewline", "line one\nline two"},
                {"leadingSpaces", "  indented\nnext\n"},
                {"trailingBlank", "text   \nmore\n"},
                {"carriageReturn", "a\r\nb\r\n"},
                {"number", 7},
                {"float", 2.25},
                {"flag", false},
                {"nothing", nullptr},
                {"emptyList", Json::array()},
                {"emptyMap", Json::object()},
                {"list", Json::array({"a", Json::object({{"componentArn", "arn:x"}})})}};
  std::string text = json_to_yaml(value);
  Result<Json> back = yaml_to_json(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  EXPECT_EQ(*back, value) << text;
}

TEST(JsonToYaml, MultiLineDocumentsAreLiteralBlocks) {
  Json value = {{"data", "name: doc\nphases:\n  - name: build\n"}};
  EXPECT_EQ(json_to_yaml(value), "data: |\n  name: doc\n  phases:\n    - name: build\n");
}

TEST(CreateRequestFrom, KeepsOnlyTheCreateMembers) {
  Json component = {{"arn", "arn:aws:imagebuilder:local:000000000000:component/c/1.0.0/2"},
                    {"name", "c"},
                    {"version", "1.0.0"},
                    {"type", "BUILD"},
                    {"platform", "Linux"},
                    {"owner", "000000000000"},
                    {"state", {{"status", "ACTIVE"}}},
                    {"data", "doc\n"},
                    {"encrypted", true},
                    {"dateCreated", "2026-01-01T00:00:00.000Z"},
                    {"description", "d"},
                    {"tags", Json::object()}};
  Json request = create_request_from(ResourceKind::kComponent, component);
  EXPECT_EQ(request.dump(),
            R"({"name":"c","semanticVersion":"1.0.0","description":"d","platform":"Linux",)"
            R"("data":"doc\n","tags":{}})");
}

TEST(CreateRequestFrom, ImagesNameWhatTheyWereMadeFromByArn) {
  Json image = {{"arn", "arn:aws:imagebuilder:local:000000000000:image/r/1.0.0/1"},
                {"imageRecipe", {{"arn", "recipe-arn"}, {"name", "r"}}},
                {"infrastructureConfiguration", {{"arn", "infra-arn"}}},
                {"imageTestsConfiguration", {{"imageTestsEnabled", false}}},
                {"state", {{"status", "PENDING"}}}};
  Json request = create_request_from(ResourceKind::kImage, image);
  EXPECT_EQ(request.dump(),
            R"({"imageRecipeArn":"recipe-arn","infrastructureConfigurationArn":"infra-arn",)"
            R"("imageTestsConfiguration":{"imageTestsEnabled":false}})");
}

TEST(CheckMembers, UnknownMembersAreNamedWithASuggestion) {
  Json request = {{"name", "x"}, {"semanticVersoin", "1.0.0"}};
  Status checked = check_members(request, create_members(ResourceKind::kComponent), "Create");
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().message.find("\"semanticVersoin\""), std::string::npos);
  EXPECT_NE(checked.error().message.find("did you mean \"semanticVersion\""), std::string::npos)
      << checked.error().message;
  EXPECT_TRUE(check_members({{"name", "x"}}, create_members(ResourceKind::kComponent), "Create"));
  EXPECT_FALSE(check_members(Json::array(), create_members(ResourceKind::kComponent), "Create"));
}

TEST(Tables, ColumnsAlignAndCellsSummarize) {
  std::vector<Json> items = {
      {{"name", "a"}, {"state", {{"status", "ACTIVE"}}}, {"os", Json::array({"x", "y"})}},
      {{"name", "longer-name"}, {"data", "l1\nl2\n"}}};
  std::string text = format_table(
      {{"NAME", "/name"}, {"STATUS", "/state/status"}, {"OS", "/os"}, {"DATA", "/data"}}, items);
  EXPECT_EQ(text,
            "NAME         STATUS  OS   DATA\n"
            "a            ACTIVE  x,y  -\n"
            "longer-name  -       -    (2 lines)\n");
}

TEST(Tables, FieldsFlattenNestedMembers) {
  Json object = {{"name", "r"},
                 {"state", {{"status", "PENDING"}}},
                 {"components", Json::array({{{"componentArn", "c1"}}})}};
  EXPECT_EQ(format_fields(object),
            "FIELD                       VALUE\n"
            "name                        r\n"
            "state.status                PENDING\n"
            "components[0].componentArn  c1\n");
}

TEST(Shorthands, FlagsTagsAndFilters) {
  EXPECT_EQ(member_name("--semantic-version"), "semanticVersion");
  EXPECT_EQ(member_name("--image-recipe-arn"), "imageRecipeArn");
  Result<Json> tags = parse_tags("team=web,env=prod");
  ASSERT_TRUE(tags);
  EXPECT_EQ(tags->dump(), R"({"team":"web","env":"prod"})");
  EXPECT_FALSE(parse_tags("novalue"));
  Result<Json> filters =
      parse_filters({"name=platform,values=Linux,Windows", "name=type,values=BUILD"});
  ASSERT_TRUE(filters) << filters.error().message;
  EXPECT_EQ(
      filters->dump(),
      R"([{"name":"platform","values":["Linux","Windows"]},{"name":"type","values":["BUILD"]}])");
  Result<Json> json_filters = parse_filters({R"([{"name":"name","values":["a"]}])"});
  ASSERT_TRUE(json_filters);
  EXPECT_EQ(json_filters->size(), 1u);
  EXPECT_FALSE(parse_filters({"platform=Linux"}));
}

TEST(Errors, AwsExceptionNames) {
  EXPECT_EQ(aws_exception_name(ErrorCode::kNotFound), "ResourceNotFoundException");
  EXPECT_EQ(aws_exception_name(ErrorCode::kInvalidArgument), "InvalidParameterValueException");
  EXPECT_EQ(aws_exception_name(ErrorCode::kIo), "");
}

}  // namespace
}  // namespace kiln::cli
