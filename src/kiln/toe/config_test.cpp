#include "kiln/toe/config.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"

namespace kiln::toe {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

ParameterList params(std::initializer_list<std::pair<std::string, std::string>> items) {
  return ParameterList(items);
}

TEST(ParseParameterListTest, ReadsNameValuePairsInOrder) {
  Result<ParameterList> list = parse_parameter_list("a=1,Name=two words,c=x");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(*list, params({{"a", "1"}, {"Name", "two words"}, {"c", "x"}}));
}

TEST(ParseParameterListTest, AValueMayContainEquals) {
  Result<ParameterList> list = parse_parameter_list("url=https://x/?a=b");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, params({{"url", "https://x/?a=b"}}));
}

TEST(ParseParameterListTest, EmptyTextAndEmptyItemsAreNothing) {
  EXPECT_TRUE(parse_parameter_list("").value().empty());
  EXPECT_EQ(parse_parameter_list(",a=1,,").value(), params({{"a", "1"}}));
}

TEST(ParseParameterListTest, RepeatedNamesAreKeptInOrder) {
  EXPECT_EQ(parse_parameter_list("a=1,a=2").value(), params({{"a", "1"}, {"a", "2"}}));
}

TEST(ParseParameterListTest, AnItemWithoutEqualsIsAnError) {
  Result<ParameterList> list = parse_parameter_list("a=1,oops");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(list.error().message, "--parameters: 'oops' is not name=value");
}

TEST(ParseParameterListTest, AnEmptyNameIsAnError) {
  Result<ParameterList> list = parse_parameter_list("=value");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInvalidArgument);
}

TEST(ParseParameterListTest, AnEmptyValueIsAnError) {
  Result<ParameterList> list = parse_parameter_list("name=");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(list.error().message, "--parameters: 'name' has an empty value");
}

TEST(ParseCommaListTest, SplitsTrimsAndDropsEmptyItems) {
  EXPECT_EQ(parse_comma_list("build,validate"), (Strings{"build", "validate"}));
  EXPECT_EQ(parse_comma_list(" build , test ,,"), (Strings{"build", "test"}));
  EXPECT_EQ(parse_comma_list(""), Strings{});
  EXPECT_EQ(parse_comma_list(",, ,"), Strings{});
  EXPECT_EQ(parse_comma_list("one"), Strings{"one"});
}

TEST(LoadRunConfigTest, ReadsEveryDocumentedKey) {
  const char* json = R"({
    "documents": [
      {"path": "a.yaml"},
      {"path": "s3://bucket/b.yaml", "parameters": [{"name": "Own", "value": "v"}]}
    ],
    "parameters": [{"name": "Global", "value": "g"}],
    "phases": "build,test",
    "cwIgnoreFailures": true,
    "cwLogGroup": "group",
    "cwLogRegion": "us-east-1",
    "cwLogStream": "stream",
    "documentS3BucketOwner": "123456789012",
    "executionId": "exec-1",
    "logDirectory": "/var/log/toe",
    "logS3BucketName": "logs",
    "logS3BucketOwner": "123456789012",
    "logS3KeyPrefix": "prefix/",
    "stateDirectory": "/var/lib/toe-state",
    "trace": true
  })";
  Result<RunOptions> options = load_run_config(json, "config.json");
  ASSERT_TRUE(options.ok()) << options.error().message;
  ASSERT_EQ(options->documents.size(), 2u);
  EXPECT_EQ(options->documents[0].path, "a.yaml");
  EXPECT_TRUE(options->documents[0].parameters.empty());
  EXPECT_EQ(options->documents[1].path, "s3://bucket/b.yaml");
  EXPECT_EQ(options->documents[1].parameters, params({{"Own", "v"}}));
  EXPECT_EQ(options->parameters, params({{"Global", "g"}}));
  EXPECT_EQ(options->phases, (Strings{"build", "test"}));
  EXPECT_EQ(options->execution_id, "exec-1");
  EXPECT_EQ(options->log_directory, fs::path("/var/log/toe"));
  EXPECT_EQ(options->state_directory, fs::path("/var/lib/toe-state"));
  EXPECT_EQ(options->log_s3_bucket, "logs");
  EXPECT_EQ(options->log_s3_prefix, "prefix/");
  EXPECT_TRUE(options->trace);
  // CloudWatch is accepted but not acted on: one warning per key, naming it.
  ASSERT_EQ(options->warnings.size(), 4u);
  for (const char* key : {"cwLogGroup", "cwLogStream", "cwLogRegion", "cwIgnoreFailures"}) {
    bool named = false;
    for (const std::string& w : options->warnings) {
      named = named || w.find(std::string("'") + key + "'") != std::string::npos;
    }
    EXPECT_TRUE(named) << key;
  }
}

TEST(LoadRunConfigTest, AnEmptyObjectGivesTheDefaults) {
  Result<RunOptions> options = load_run_config("{}", "config.json");
  ASSERT_TRUE(options.ok());
  EXPECT_TRUE(options->documents.empty());
  EXPECT_TRUE(options->parameters.empty());
  EXPECT_TRUE(options->phases.empty());
  EXPECT_EQ(options->execution_id, "");
  EXPECT_EQ(options->log_directory, fs::path("."));
  EXPECT_EQ(options->state_directory, fs::path());
  EXPECT_FALSE(options->trace);
  EXPECT_TRUE(options->warnings.empty());
}

TEST(LoadRunConfigTest, PhasesMayBeAList) {
  Result<RunOptions> options = load_run_config(R"({"phases": ["build", "validate"]})", "c");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->phases, (Strings{"build", "validate"}));
}

TEST(LoadRunConfigTest, AcceptsTheMisspelledExecutonIdOfAwsDocs) {
  Result<RunOptions> options = load_run_config(R"({"executonId": "typo-id"})", "c");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->execution_id, "typo-id");
}

TEST(LoadRunConfigTest, TheCorrectSpellingWinsOverTheMisspelling) {
  Result<RunOptions> options =
      load_run_config(R"({"executonId": "typo-id", "executionId": "real-id"})", "c");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->execution_id, "real-id");
}

TEST(LoadRunConfigTest, AnUnknownKeyIsAnErrorWithASuggestion) {
  Result<RunOptions> options = load_run_config(R"({"logDirectroy": "/tmp"})", "my.json");
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(options.error().message,
            "my.json: unknown key 'logDirectroy' (did you mean 'logDirectory'?)");
}

TEST(LoadRunConfigTest, AnUnknownKeyFarFromAnyIsAnErrorWithoutSuggestion) {
  Result<RunOptions> options = load_run_config(R"({"zzz": 1})", "my.json");
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().message, "my.json: unknown key 'zzz'");
}

TEST(LoadRunConfigTest, KeysAreCaseSensitive) {
  Result<RunOptions> options = load_run_config(R"({"Documents": []})", "c");
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.error().message.find("did you mean 'documents'?"), std::string::npos)
      << options.error().message;
}

TEST(LoadRunConfigTest, PerDocumentParametersStayWithTheirDocument) {
  const char* json = R"({"documents": [
      {"path": "one.yaml", "parameters": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
      {"path": "two.yaml", "parameters": [{"name": "A", "value": "other"}]}]})";
  Result<RunOptions> options = load_run_config(json, "c");
  ASSERT_TRUE(options.ok()) << options.error().message;
  ASSERT_EQ(options->documents.size(), 2u);
  EXPECT_EQ(options->documents[0].parameters, params({{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(options->documents[1].parameters, params({{"A", "other"}}));
  EXPECT_TRUE(options->parameters.empty());
}

TEST(LoadRunConfigTest, AParameterValueMayBeAOneStringList) {
  const char* json = R"({"parameters": [{"name": "Recipe", "value": ["x"]}],
      "documents": [{"path": "d.yaml", "parameters": [{"name": "Own", "value": ["y"]}]}]})";
  Result<RunOptions> options = load_run_config(json, "c");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->parameters, params({{"Recipe", "x"}}));
  EXPECT_EQ(options->documents[0].parameters, params({{"Own", "y"}}));
}

TEST(LoadRunConfigTest, OtherParameterValuesAreErrors) {
  for (const char* value : {R"(["x", "y"])", "[]", "5", "true", "null", "{}", "[1]"}) {
    std::string json = std::string(R"({"parameters": [{"name": "P", "value": )") + value + "}]}";
    Result<RunOptions> options = load_run_config(json, "c.json");
    ASSERT_FALSE(options.ok()) << value;
    EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(options.error().message.find("'P'"), std::string::npos) << options.error().message;
  }
}

TEST(LoadRunConfigTest, MalformedParametersAreErrors) {
  for (const char* json : {R"({"parameters": {"name": "P", "value": "v"}})",
                           R"({"parameters": [{"value": "v"}]})",
                           R"({"parameters": [{"name": 3, "value": "v"}]})",
                           R"({"parameters": [{"name": "P"}]})",
                           R"({"parameters": ["P=v"]})"}) {
    Result<RunOptions> options = load_run_config(json, "c.json");
    ASSERT_FALSE(options.ok()) << json;
    EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(options.error().message.rfind("c.json: parameters", 0), 0u)
        << options.error().message;
  }
}

TEST(LoadRunConfigTest, MalformedDocumentsAreErrors) {
  for (const char* json : {R"({"documents": "a.yaml"})",
                           R"({"documents": ["a.yaml"]})",
                           R"({"documents": [{"file": "a.yaml"}]})",
                           R"({"documents": [{"path": 1}]})"}) {
    Result<RunOptions> options = load_run_config(json, "c.json");
    ASSERT_FALSE(options.ok()) << json;
    EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(LoadRunConfigTest, StringKeysMustBeStrings) {
  for (const char* key : {"executionId", "logDirectory", "stateDirectory", "logS3BucketName"}) {
    std::string json = std::string("{\"") + key + "\": 5}";
    Result<RunOptions> options = load_run_config(json, "c.json");
    ASSERT_FALSE(options.ok()) << key;
    EXPECT_EQ(options.error().message, std::string("c.json: '") + key + "' must be a string");
  }
}

TEST(LoadRunConfigTest, TraceMustBeABoolean) {
  Result<RunOptions> options = load_run_config(R"({"trace": "yes"})", "c.json");
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(options.error().message.find("trace"), std::string::npos) << options.error().message;
}

TEST(LoadRunConfigTest, TextThatIsNotAJsonObjectIsAnError) {
  for (const char* text : {"", "not json", "[]", "\"text\"", "{\"documents\": [}"}) {
    Result<RunOptions> options = load_run_config(text, "bad.json");
    ASSERT_FALSE(options.ok()) << text;
    EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(options.error().message, "bad.json: not a JSON object");
  }
}

class ResolveRunOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<TempDir> dir = TempDir::create("kiln-config-test-");
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    dir_.emplace(std::move(dir).value());
  }

  std::string config(const std::string& json) {
    std::string path = (dir_->path() / "config.json").string();
    EXPECT_TRUE(write_file(path, json).ok());
    return path;
  }

  std::optional<TempDir> dir_;
};

TEST_F(ResolveRunOptionsTest, FlagsAloneGiveTheOptions) {
  RunFlags flags;
  flags.documents = "a.yaml,b.yaml";
  flags.parameters = "P=1";
  flags.phases = "build";
  flags.execution_id = "id";
  flags.log_directory = "/logs";
  flags.state_directory = "/state";
  flags.log_s3_bucket = "bucket";
  flags.log_s3_prefix = "pre";
  flags.trace = true;
  flags.ignored = {"--cw-log-group"};
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_TRUE(options.ok()) << options.error().message;
  ASSERT_EQ(options->documents.size(), 2u);
  EXPECT_EQ(options->documents[0].path, "a.yaml");
  EXPECT_EQ(options->documents[1].path, "b.yaml");
  EXPECT_EQ(options->parameters, params({{"P", "1"}}));
  EXPECT_EQ(options->phases, Strings{"build"});
  EXPECT_EQ(options->execution_id, "id");
  EXPECT_EQ(options->log_directory, fs::path("/logs"));
  EXPECT_EQ(options->state_directory, fs::path("/state"));
  EXPECT_EQ(options->log_s3_bucket, "bucket");
  EXPECT_EQ(options->log_s3_prefix, "pre");
  EXPECT_TRUE(options->trace);
  ASSERT_EQ(options->warnings.size(), 1u);
  EXPECT_NE(options->warnings[0].find("--cw-log-group"), std::string::npos);
}

TEST_F(ResolveRunOptionsTest, TheConfigFileGivesWhatFlagsDoNot) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}], "parameters":
      [{"name": "P", "value": "file"}], "phases": "test", "executionId": "file-id",
      "logDirectory": "/file-logs", "stateDirectory": "/file-state", "trace": true})");
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_TRUE(options.ok()) << options.error().message;
  ASSERT_EQ(options->documents.size(), 1u);
  EXPECT_EQ(options->documents[0].path, "d.yaml");
  EXPECT_EQ(options->parameters, params({{"P", "file"}}));
  EXPECT_EQ(options->phases, Strings{"test"});
  EXPECT_EQ(options->execution_id, "file-id");
  EXPECT_EQ(options->log_directory, fs::path("/file-logs"));
  EXPECT_EQ(options->state_directory, fs::path("/file-state"));
  EXPECT_TRUE(options->trace);
}

TEST_F(ResolveRunOptionsTest, FlagsWinOverTheConfigFile) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}], "phases": "test",
      "executionId": "file-id", "logDirectory": "/file-logs", "stateDirectory": "/file-state",
      "logS3BucketName": "file-bucket", "logS3KeyPrefix": "file-prefix"})");
  flags.phases = "build,validate";
  flags.execution_id = "flag-id";
  flags.log_directory = "/flag-logs";
  flags.state_directory = "/flag-state";
  flags.log_s3_bucket = "flag-bucket";
  flags.log_s3_prefix = "flag-prefix";
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->documents[0].path, "d.yaml");
  EXPECT_EQ(options->phases, (Strings{"build", "validate"}));
  EXPECT_EQ(options->execution_id, "flag-id");
  EXPECT_EQ(options->log_directory, fs::path("/flag-logs"));
  EXPECT_EQ(options->state_directory, fs::path("/flag-state"));
  EXPECT_EQ(options->log_s3_bucket, "flag-bucket");
  EXPECT_EQ(options->log_s3_prefix, "flag-prefix");
}

TEST_F(ResolveRunOptionsTest, DocumentsFromTheFileAndParametersFromFlagsMix) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}]})");
  flags.parameters = "P=flag";
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->documents[0].path, "d.yaml");
  EXPECT_EQ(options->parameters, params({{"P", "flag"}}));
}

TEST_F(ResolveRunOptionsTest, DocumentsInBothAreAnError) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}]})");
  flags.documents = "e.yaml";
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(options.error().message,
            "documents are given both by --documents and in " + *flags.config);
}

TEST_F(ResolveRunOptionsTest, ParametersInBothAreAnError) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}],
      "parameters": [{"name": "P", "value": "file"}]})");
  flags.parameters = "P=flag";
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(options.error().message,
            "parameters are given both by --parameters and in " + *flags.config);
}

TEST_F(ResolveRunOptionsTest, NoDocumentsIsAnError) {
  Result<RunOptions> options = resolve_run_options(RunFlags{});
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(options.error().message.find("no documents"), std::string::npos);

  RunFlags only_config;
  only_config.config = config(R"({"phases": "build"})");
  EXPECT_FALSE(resolve_run_options(only_config).ok());

  RunFlags empty_list;
  empty_list.documents = " , ";
  EXPECT_FALSE(resolve_run_options(empty_list).ok());
}

TEST_F(ResolveRunOptionsTest, AMissingConfigFileIsAnErrorNamingIt) {
  RunFlags flags;
  flags.config = (dir_->path() / "missing.json").string();
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(options.error().message.rfind("reading --config: ", 0), 0u) << options.error().message;
  EXPECT_NE(options.error().message.find(*flags.config), std::string::npos);
}

TEST_F(ResolveRunOptionsTest, AnInvalidConfigFileIsAnError) {
  RunFlags flags;
  flags.config = config(R"({"documents": [{"path": "d.yaml"}], "bogusKey": 1})");
  Result<RunOptions> options = resolve_run_options(flags);
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.error().message.find("unknown key 'bogusKey'"), std::string::npos);
}

TEST_F(ResolveRunOptionsTest, BadParameterFlagIsAnError) {
  RunFlags flags;
  flags.documents = "d.yaml";
  flags.parameters = "P";
  EXPECT_FALSE(resolve_run_options(flags).ok());
}

TEST_F(ResolveRunOptionsTest, TraceFromEitherSourceTurnsTracingOn) {
  RunFlags from_file;
  from_file.config = config(R"({"documents": [{"path": "d.yaml"}], "trace": true})");
  EXPECT_TRUE(resolve_run_options(from_file).value().trace);

  RunFlags from_flag;
  from_flag.config = config(R"({"documents": [{"path": "d.yaml"}], "trace": false})");
  from_flag.trace = true;
  EXPECT_TRUE(resolve_run_options(from_flag).value().trace);
}

}  // namespace
}  // namespace kiln::toe
