#include "kiln/toe/action.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/document/modules.hpp"

namespace kiln::toe {
namespace {

// The 30 modules of the CDK enum (docs reference, section 1.6).
const std::set<std::string> kAwsModules = {"AppendFile",
                                           "Assert",
                                           "CopyFile",
                                           "CopyFolder",
                                           "CreateFile",
                                           "CreateFolder",
                                           "CreateSymlink",
                                           "DeleteFile",
                                           "DeleteFolder",
                                           "ExecuteBash",
                                           "ExecuteBinary",
                                           "ExecuteDocument",
                                           "ExecutePowerShell",
                                           "InstallMSI",
                                           "ListFiles",
                                           "MoveFile",
                                           "MoveFolder",
                                           "ReadFile",
                                           "Reboot",
                                           "SetFileEncoding",
                                           "SetFileOwner",
                                           "SetFolderOwner",
                                           "SetFilePermissions",
                                           "SetFolderPermissions",
                                           "SetRegistry",
                                           "S3Download",
                                           "S3Upload",
                                           "UninstallMSI",
                                           "UpdateOS",
                                           "WebDownload"};

std::set<std::string> document_module_names() {
  std::set<std::string> names;
  for (const document::ModuleSpec& m : document::all_modules()) {
    names.emplace(m.name);
  }
  return names;
}

TEST(ActionTableTest, EveryDocumentModuleHasAnImplementation) {
  for (const document::ModuleSpec& m : document::all_modules()) {
    EXPECT_NE(find_action(m.name), nullptr) << m.name;
  }
}

TEST(ActionTableTest, TheDocumentModulesAreAwsList) {
  EXPECT_EQ(document_module_names(), kAwsModules);
}

// The other direction: every name bound in action.cpp is a module documents may use. The table
// is private, so the test reads it from the source.
TEST(ActionTableTest, EveryImplementationIsADocumentModule) {
  Result<std::string> source = read_file(std::string(KILN_SOURCE_DIR) + "/src/kiln/toe/action.cpp");
  ASSERT_TRUE(source.ok()) << source.error().message;
  std::regex binding(R"re(\{"([A-Za-z0-9]+)", actions::[a-z0-9_]+\})re");
  std::set<std::string> bound;
  for (auto it = std::sregex_iterator(source->begin(), source->end(), binding);
       it != std::sregex_iterator();
       ++it) {
    bound.insert((*it)[1].str());
  }
  EXPECT_EQ(bound, document_module_names());
}

TEST(ActionTableTest, LookupIsExactAndCaseSensitive) {
  EXPECT_EQ(find_action("executebash"), nullptr);
  EXPECT_EQ(find_action("ExecuteBash "), nullptr);
  EXPECT_EQ(find_action(""), nullptr);
  EXPECT_EQ(find_action("Zzz"), nullptr);
  EXPECT_EQ(find_action("Aaa"), nullptr);
  EXPECT_NE(find_action("ExecuteBash"), find_action("ExecuteBinary"));
}

TEST(InputStringTest, ReadsStringsAndRendersOtherValues) {
  Json object = {{"s", "text"}, {"n", 42}, {"b", true}, {"null", nullptr}};
  EXPECT_EQ(input_string(object, "s"), "text");
  EXPECT_EQ(input_string(object, "n"), "42");
  EXPECT_EQ(input_string(object, "b"), "true");
  EXPECT_EQ(input_string(object, "null", "fallback"), "fallback");
  EXPECT_EQ(input_string(object, "missing", "fallback"), "fallback");
  EXPECT_EQ(input_string(object, "missing"), "");
}

TEST(InputBoolTest, ReadsBooleansAndTheirTextForms) {
  Json object = {{"t", true},
                 {"f", false},
                 {"ts", "true"},
                 {"fs", "false"},
                 {"tc", "True"},
                 {"fc", "FALSE"},
                 {"null", nullptr}};
  EXPECT_TRUE(input_bool(object, "t", false).value());
  EXPECT_FALSE(input_bool(object, "f", true).value());
  EXPECT_TRUE(input_bool(object, "ts", false).value());
  EXPECT_FALSE(input_bool(object, "fs", true).value());
  EXPECT_TRUE(input_bool(object, "tc", false).value());
  EXPECT_FALSE(input_bool(object, "fc", true).value());
}

TEST(InputBoolTest, MissingOrNullGivesTheFallback) {
  Json object = {{"null", nullptr}};
  EXPECT_TRUE(input_bool(object, "missing", true).value());
  EXPECT_FALSE(input_bool(object, "missing", false).value());
  EXPECT_TRUE(input_bool(object, "null", true).value());
}

TEST(InputBoolTest, OtherValuesAreErrorsNamingTheInput) {
  Json object = {{"word", "yes"}, {"number", 1}, {"spaced", " true"}};
  for (const char* key : {"word", "number", "spaced"}) {
    Result<bool> value = input_bool(object, key, false);
    ASSERT_FALSE(value.ok()) << key;
    EXPECT_EQ(value.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(value.error().message.find(std::string("'") + key + "'"), std::string::npos)
        << value.error().message;
  }
  EXPECT_EQ(input_bool(object, "word", false).error().message,
            "input 'word' must be true or false, got 'yes'");
}

TEST(InputIntTest, ReadsNumbersAndDecimalText) {
  Json object = {{"n", 5}, {"neg", -3}, {"s", "120"}, {"sneg", "-7"}, {"big", "9000000000"}};
  EXPECT_EQ(input_int(object, "n", 0).value(), 5);
  EXPECT_EQ(input_int(object, "neg", 0).value(), -3);
  EXPECT_EQ(input_int(object, "s", 0).value(), 120);
  EXPECT_EQ(input_int(object, "sneg", 0).value(), -7);
  EXPECT_EQ(input_int(object, "big", 0).value(), 9000000000);
}

TEST(InputIntTest, MissingOrNullGivesTheFallback) {
  Json object = {{"null", nullptr}};
  EXPECT_EQ(input_int(object, "missing", 17).value(), 17);
  EXPECT_EQ(input_int(object, "null", -1).value(), -1);
}

TEST(InputIntTest, OtherValuesAreErrorsNamingTheInput) {
  Json object = {{"word", "ten"},
                 {"trailing", "10s"},
                 {"empty", ""},
                 {"fraction", 1.5},
                 {"bool", true},
                 {"overflow", "99999999999999999999"}};
  for (const char* key : {"word", "trailing", "empty", "fraction", "bool", "overflow"}) {
    Result<int64_t> value = input_int(object, key, 0);
    ASSERT_FALSE(value.ok()) << key;
    EXPECT_EQ(value.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(value.error().message.find(std::string("'") + key + "'"), std::string::npos)
        << value.error().message;
  }
  EXPECT_EQ(input_int(object, "trailing", 0).error().message,
            "input 'trailing' must be an integer, got '10s'");
}

TEST(InputStringListTest, ReadsListsAndSingleStrings) {
  Json object = {{"list", {"a", "b"}},
                 {"single", "only"},
                 {"mixed", {"a", 1, true}},
                 {"empty", Json::array()},
                 {"null", nullptr}};
  EXPECT_EQ(input_string_list(object, "list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(input_string_list(object, "single"), (std::vector<std::string>{"only"}));
  EXPECT_EQ(input_string_list(object, "mixed"), (std::vector<std::string>{"a", "1", "true"}));
  EXPECT_TRUE(input_string_list(object, "empty").empty());
  EXPECT_TRUE(input_string_list(object, "null").empty());
  EXPECT_TRUE(input_string_list(object, "missing").empty());
}

class NullOutput final : public StepOutput {
 public:
  void process_output(os::OutputStream, std::string_view) override {}
  void info(std::string_view) override {}
  void debug(std::string_view) override {}
};

TEST(InterruptedTest, ReportsCancellationThenAPassedDeadline) {
  Json inputs = Json::object();
  document::Step step;
  step.timeout_seconds = 30;
  NullOutput output;
  std::atomic<bool> cancel{false};
  auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto future = std::chrono::steady_clock::now() + std::chrono::hours(1);
  ActionContext context{inputs, step, future, &cancel, output, process_env(), nullptr, {}, {}};
  EXPECT_EQ(interrupted(context), std::nullopt);

  context.deadline = past;
  EXPECT_EQ(interrupted(context), "step timed out after 30 seconds");

  cancel = true;
  EXPECT_EQ(interrupted(context), "cancelled");

  ActionContext no_limits{
      inputs, step, std::nullopt, nullptr, output, process_env(), nullptr, {}, {}};
  EXPECT_EQ(interrupted(no_limits), std::nullopt);
}

TEST(ProcessEnvTest, LooksUpTheRealEnvironment) {
  EnvLookup env = process_env();
  ASSERT_NE(std::getenv("PATH"), nullptr);
  EXPECT_EQ(env("PATH"), std::optional<std::string>(std::getenv("PATH")));
  EXPECT_EQ(env("KILN_ACTION_TEST_SURELY_UNSET_X9"), std::nullopt);
}

}  // namespace
}  // namespace kiln::toe
