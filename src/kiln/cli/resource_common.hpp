#pragma once

// The parts the resource verbs share: requests built from an input file and flags, the
// --filters and --tags shorthands, and generic create/get/list/delete verbs that call the resource
// client (embedded or a daemon) and print its responses.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/cli/output.hpp"
#include "kiln/cli/resource_client.hpp"
#include "kiln/cli/verbs.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::cli {

// "--semantic-version" -> "semanticVersion".
std::string member_name(std::string_view flag);

// A parameter's value as the AWS CLI reads it: "file://PATH" is the content of PATH.
Result<std::string> parameter_text(const std::string& value);

// --tags "k1=v1,k2=v2" or a JSON object.
Result<Json> parse_tags(const std::string& value);
// --filters "name=platform,values=Linux,Windows" (one filter per value) or a JSON array.
Result<Json> parse_filters(const std::vector<std::string>& values);

// The request of a create or update verb: --cli-input-json / --cli-input-yaml (a file, or
// file://FILE, or the text itself), then the flags given, which win over the file's members.
class RequestOptions {
 public:
  RequestOptions(CLI::App* cmd, std::string operation, std::vector<std::string_view> members);

  // --flag VALUE sets the member named by the flag (member_name) to a string.
  void add_string(const std::string& flag, const std::string& help, bool file_allowed = false);
  // --flag V1 V2 ... sets the member to an array of strings.
  void add_strings(const std::string& flag, const std::string& help);
  // --flag / --no-flag sets the member to a boolean.
  void add_bool(const std::string& flag, const std::string& help);
  // --tags k=v,... (or JSON) sets the member to an object.
  void add_map(const std::string& flag, const std::string& help);
  // --flag JSON sets the member to any JSON value (object or array).
  void add_json(const std::string& flag, const std::string& help);

  // The request: the input file's members, the flags over them, every member checked against
  // the operation's; clientToken is the flag's or a new UUID.
  Result<Json> build() const;

 private:
  struct Flag {
    std::string member;
    enum class Kind { kString, kStrings, kBool, kMap, kJson } kind;
    bool file_allowed = false;
    std::shared_ptr<std::string> value = std::make_shared<std::string>();
    std::shared_ptr<std::vector<std::string>> values = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<std::optional<bool>> flag = std::make_shared<std::optional<bool>>();
    CLI::Option* option = nullptr;
  };
  CLI::App* cmd_;
  std::string operation_;
  std::vector<std::string_view> members_;
  std::shared_ptr<std::string> json_file_ = std::make_shared<std::string>();
  std::shared_ptr<std::string> yaml_file_ = std::make_shared<std::string>();
  std::shared_ptr<std::string> client_token_ = std::make_shared<std::string>();
  std::vector<Flag> flags_;
};

// Opens the catalog of the context or reports why not (the exit code in the error case).
using CatalogFn = std::function<int(state::Catalog&)>;
int with_catalog(Context& context, const CatalogFn& fn);

// The member of `operation`'s response that holds its result ("componentBuildVersionArn").
std::string result_member(std::string_view operation);

// Every page of a list call: the response with the lists of every page joined, no nextToken.
Result<Json> call_all_pages(ResourceClient& client, std::string_view operation, Json request);

// Opens the client (resource_client.hpp), calls `operation` (every page of a list) and prints the
// response in `format`, `table` making the table text from it; returns the exit code. Errors are
// printed as "kiln: error: <AWS exception>: <message>".
using TableFn = std::function<std::string(const Json& response)>;
int call_and_print(Context& context,
                   std::string_view operation,
                   const Json& request,
                   OutputFormat format,
                   const TableFn& table);
// The table text of a create, update, cancel or delete response: its ARN on a line.
TableFn arn_text(std::string_view operation);

// create-X / update-X: the request from a file and flags (set by `flags`), the ARN response.
struct RequestSpec {
  std::string command;
  std::string help;
  std::string operation;  // "CreateImageRecipe"
  std::vector<std::string_view> members;
  std::function<void(RequestOptions&)> flags;
};
Verb add_request_verb(CLI::App& app, RequestSpec spec);

// get-X --X-arn ARN: {"requestId", "<member>": {...}}; yaml prints the create request.
struct GetSpec {
  std::string command;
  std::string help;
  std::string arn_flag;   // "--component-build-version-arn"
  std::string operation;  // "GetComponent"
  ResourceKind kind;
};
Verb add_get_verb(CLI::App& app, GetSpec spec);

// list-X [--owner] [--filters] [--X-arn]: {"requestId", "<member>": [...]}; table by default.
struct ListSpec {
  std::string command;
  std::string help;
  std::string operation;  // "ListComponents"
  bool has_owner = false;
  bool has_filters = true;
  std::string arn_flag;  // set for list-*-build-versions (required)
  std::vector<Column> columns;
};
Verb add_list_verb(CLI::App& app, ListSpec spec);

// delete-X --X-arn ARN: {"requestId", "<arn member>": ARN}.
struct DeleteSpec {
  std::string command;
  std::string help;
  std::string arn_flag;
  std::string operation;  // "DeleteComponent"
};
Verb add_delete_verb(CLI::App& app, DeleteSpec spec);

// The verbs of each file.
std::vector<Verb> add_component_verbs(CLI::App& app);
std::vector<Verb> add_recipe_verbs(CLI::App& app);
std::vector<Verb> add_configuration_verbs(CLI::App& app);
std::vector<Verb> add_image_verbs(CLI::App& app);

}  // namespace kiln::cli
