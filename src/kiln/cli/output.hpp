#pragma once

// How the resource verbs (`kiln create-component`, `kiln get-image`, ...) print what the catalog
// returns, in the three forms of `--output`:
//
//   json   the response of the AWS CLI: {"requestId": ..., "component": {...}} (4-space indent)
//   yaml   the same response as YAML; for a get verb, the resource written back as the request
//          that creates it (create_request_from), so `get-X --output yaml > f.yaml` and
//          `create-X --cli-input-yaml f.yaml` make the same resource
//   table  aligned columns of the important fields
//
// and how their input files (--cli-input-json / --cli-input-yaml) become JSON.

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/result.hpp"

namespace kiln::cli {

using Json = nlohmann::ordered_json;

enum class OutputFormat { kJson, kTable, kYaml };

Result<OutputFormat> parse_output_format(std::string_view name);

// Adds `--output json|table|yaml` to `cmd`; the returned string holds the choice after parsing
// ("" when not given: the verb's default applies).
std::shared_ptr<std::string> add_output_option(CLI::App* cmd);
// The format chosen by an --output value ("" gives `fallback`).
OutputFormat output_format(const std::string& flag, OutputFormat fallback);

// --- YAML <-> JSON --------------------------------------------------------------------------

// A YAML document (the text of a --cli-input-yaml file) as JSON. Plain scalars take YAML 1.2's
// core types (null, true/false, integers, floats), quoted and block scalars stay strings.
Result<Json> yaml_to_json(std::string_view text);
// JSON as a YAML document that yaml_to_json reads back as the same value: multi-line strings
// as literal blocks (`|`), strings that would read as another type quoted.
std::string json_to_yaml(const Json& value);

// --- The resources --------------------------------------------------------------------------

// The kinds of resources the catalog keeps.
enum class ResourceKind {
  kComponent,
  kImageRecipe,
  kInfrastructureConfiguration,
  kDistributionConfiguration,
  kImage,
};

// The members of the Create request of `kind`, in AWS's order (botocore's service model),
// clientToken and dryRun excepted.
const std::vector<std::string_view>& create_members(ResourceKind kind);

// A resource as its get verb returns it, written back as its Create request: only the request's
// members (arn, owner, type, state, dates... dropped), `version` as `semanticVersion`, and for
// images the ARNs of the recipe and configurations it was made from.
Json create_request_from(ResourceKind kind, const Json& resource);

// Checks that every member of a request is one of `allowed` (kInvalidArgument naming the
// unknown member and the closest known one, as the AWS CLI's "Unknown parameter" does).
Status check_members(const Json& request,
                     const std::vector<std::string_view>& allowed,
                     std::string_view operation);

// --- Tables ---------------------------------------------------------------------------------

struct Column {
  std::string header;
  std::string path;  // a JSON pointer into each row ("/state/status")
};

// A JSON value as one table cell: strings as they are, arrays of scalars joined by ",",
// multi-line strings as "(N lines)", objects and arrays of objects compact JSON, absent "-".
std::string cell_text(const Json* value);

// Rows of aligned columns (two spaces apart), a header row first.
std::string format_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);
std::string format_table(const std::vector<Column>& columns, const std::vector<Json>& items);
// One object as FIELD/VALUE rows: nested members flattened to dotted paths
// ("state.status", "components[0].componentArn").
std::string format_fields(const Json& object);

// --- Responses ------------------------------------------------------------------------------

// A request id for a response (a random UUID, as AWS's requestId).
std::string new_request_id();

// Prints `response` on stdout in `format`: json and yaml as they are, table as `table_text`.
void print_response(const Json& response, OutputFormat format, const std::string& table_text);

// Prints "kiln: error: <AWS exception>: <message>" on stderr (ResourceNotFoundException for
// kNotFound, InvalidParameterValueException for kInvalidArgument, ...) and returns the exit code
// cli::report gives.
int report_resource_error(const Error& error);
// The AWS exception name for an error code ("" when none fits).
std::string_view aws_exception_name(ErrorCode code);

}  // namespace kiln::cli
