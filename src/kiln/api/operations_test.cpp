// The operation table against botocore's service model of imagebuilder, wherever one is
// installed: $KILN_IMAGEBUILDER_MODEL, the Debian AWS CLI's copy, python3's botocore (its
// service-2.json may be gzipped). Skipped when there is none.

#include "kiln/api/operations.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "kiln/api/errors.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::api {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kModelDir = "imagebuilder/2019-12-02";

std::string python_botocore_dir() {
  FILE* pipe = popen(
      "python3 -c 'import botocore, os; print(os.path.dirname(botocore.__file__))' 2>/dev/null",
      "r");
  if (pipe == nullptr) {
    return {};
  }
  char buffer[4096];
  std::string out;
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) {
    out.append(buffer, n);
  }
  pclose(pipe);
  return std::string(trim(out));
}

std::vector<fs::path> model_files() {
  std::vector<fs::path> dirs;
  std::vector<fs::path> files;
  if (const char* env = std::getenv("KILN_IMAGEBUILDER_MODEL"); env != nullptr && *env) {
    files.emplace_back(env);
  }
  dirs.push_back("/usr/lib/python3/dist-packages/awscli/botocore/data");
  dirs.push_back("/usr/lib/python3/dist-packages/botocore/data");
  if (std::string dir = python_botocore_dir(); !dir.empty()) {
    dirs.push_back(fs::path(dir) / "data");
  }
  for (const fs::path& dir : dirs) {
    for (const char* name : {"service-2.json", "service-2.json.gz"}) {
      fs::path file = dir / kModelDir / name;
      if (fs::exists(file)) {
        files.push_back(file);
      }
    }
  }
  return files;
}

std::string read_gzip(const fs::path& file) {
  gzFile in = gzopen(file.c_str(), "rb");
  if (in == nullptr) {
    return {};
  }
  std::string out;
  char buffer[65536];
  int n = 0;
  while ((n = gzread(in, buffer, sizeof buffer)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  gzclose(in);
  return out;
}

std::set<std::string> as_set(const std::vector<std::string_view>& members) {
  return {members.begin(), members.end()};
}

TEST(OperationsModelTest, TableMatchesBotocoresServiceModel) {
  std::vector<fs::path> files = model_files();
  if (files.empty()) {
    GTEST_SKIP() << "no botocore service model of imagebuilder installed";
  }
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::string text;
    if (file.extension() == ".gz") {
      text = read_gzip(file);
    } else {
      Result<std::string> read = read_file(file);
      ASSERT_TRUE(read.ok()) << read.error().message;
      text = *read;
    }
    Json model = Json::parse(text, nullptr, false);
    ASSERT_FALSE(model.is_discarded());
    EXPECT_EQ(model["metadata"]["protocol"], "rest-json");
    EXPECT_EQ(model["metadata"]["signingName"], "imagebuilder");
    const Json& shapes = model["shapes"];
    // error_status gives every exception of the model its httpStatusCode.
    for (const auto& [name, shape] : shapes.items()) {
      if (shape.value("exception", false)) {
        EXPECT_EQ(error_status(name), shape["error"].value("httpStatusCode", 0)) << name;
      }
    }
    for (const Operation& op : operations()) {
      SCOPED_TRACE(std::string(op.name));
      ASSERT_TRUE(model["operations"].contains(std::string(op.name)));
      const Json& m = model["operations"][std::string(op.name)];
      EXPECT_EQ(m["http"]["method"], std::string(op.method));
      EXPECT_EQ(m["http"]["requestUri"], std::string(op.path));

      const Json& input = shapes[m["input"]["shape"].get<std::string>()];
      std::set<std::string> query;
      std::set<std::string> members;
      for (const auto& [name, member] : input["members"].items()) {
        members.insert(name);
        if (member.value("location", "") == "querystring") {
          query.insert(name);
          EXPECT_EQ(member.value("locationName", name), name);
        } else {
          // kiln reads no headers or path parameters.
          EXPECT_FALSE(member.contains("location")) << name;
        }
      }
      EXPECT_EQ(as_set(op.query_members), query);
      // Every member of the model is known (a newer model may have more than an older one).
      std::set<std::string> table_members = as_set(op.members);
      for (const std::string& name : members) {
        EXPECT_TRUE(table_members.count(name)) << "member " << name << " is not in the table";
      }
      // kiln never demands a member the model does not require.
      std::set<std::string> required;
      for (const Json& name : input.value("required", Json::array())) {
        required.insert(name.get<std::string>());
      }
      for (std::string_view name : op.required) {
        EXPECT_TRUE(required.count(std::string(name))) << "required " << name;
      }
      EXPECT_EQ(members.count("clientToken") == 1,
                op.kind == OperationKind::kCreate || op.kind == OperationKind::kUpdate ||
                    op.kind == OperationKind::kAction)
          << "clientToken";
      EXPECT_EQ(members.count("nextToken") == 1, op.kind == OperationKind::kList) << "nextToken";
      if (input["members"].contains("maxResults")) {
        const Json& max = shapes[input["members"]["maxResults"]["shape"].get<std::string>()];
        EXPECT_EQ(max.value("min", 0), 1);
        EXPECT_EQ(max.value("max", 0), kMaxResults);
      }

      const Json& output = shapes[m["output"]["shape"].get<std::string>()];
      EXPECT_TRUE(output["members"].contains(std::string(op.result_member)));
      EXPECT_TRUE(output["members"].contains("requestId"));
      if (op.kind == OperationKind::kList) {
        EXPECT_TRUE(output["members"].contains("nextToken"));
      }
      if (members.count("clientToken")) {
        EXPECT_TRUE(output["members"].contains("clientToken"));
      }
      // The errors the table's operations answer with exist, with the status error_status gives.
      for (const Json& error : m.value("errors", Json::array())) {
        const Json& shape = shapes[error["shape"].get<std::string>()];
        EXPECT_TRUE(shape.value("exception", false));
      }
    }
  }
}

}  // namespace
}  // namespace kiln::api
