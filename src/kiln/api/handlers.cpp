#include "kiln/api/handlers.hpp"

#include <openssl/evp.h>

#include <functional>
#include <optional>

#include "kiln/api/sigv4.hpp"
#include "kiln/base/log.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/text_encoding.hpp"

namespace kiln::api {
namespace {

ApiError invalid_value(std::string message) {
  return {"InvalidParameterValueException", std::move(message)};
}

ApiError serialization(std::string message) {
  return {"SerializationException", std::move(message)};
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 ||
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string_view::npos) {
    return std::nullopt;
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) {
    ++padding;
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// Request bodies nest no deeper than this (the catalog writes them out recursively).
constexpr size_t kMaxJsonDepth = 64;

// The deepest nesting of arrays and objects in JSON text (brackets inside strings skipped).
size_t json_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string page_check(const Operation& op, const Json& request, size_t offset) {
  Json selection = request;
  selection.erase("maxResults");
  selection.erase("nextToken");
  return sigv4::sha256_hex(fmt::format("kiln-page\n{}\n{}\n{}", op.name, selection.dump(), offset))
      .substr(0, 32);
}

// The string member `name` of the request ("" when absent); a non-string is an error.
struct StringMember {
  std::string value;
  std::optional<ApiError> error;
};
StringMember string_member(const Json& request, std::string_view name) {
  auto it = request.find(std::string(name));
  if (it == request.end() || it->is_null()) {
    return {};
  }
  if (!it->is_string()) {
    return {{}, serialization(fmt::format("{} must be a string", name))};
  }
  return {it->get<std::string>(), std::nullopt};
}

Reply ok_reply(Json body) {
  Reply reply;
  reply.body = std::move(body);
  return reply;
}

Reply error_of(const Error& error, const Operation& op) {
  return error_reply(to_api_error(error, op));
}

// The ListQuery of a list request: owner (a string) and filters (an array).
std::optional<ApiError> list_query(const Json& request, state::ListQuery& query) {
  StringMember owner = string_member(request, "owner");
  if (owner.error) {
    return owner.error;
  }
  if (!owner.value.empty()) {
    query.owner = owner.value;
  }
  if (request.contains("filters") && !request["filters"].is_null()) {
    if (!request["filters"].is_array()) {
      return serialization("filters must be a list of {name, values}");
    }
    query.filters = request["filters"];
  }
  return std::nullopt;
}

bool has_filters(const Json& request) {
  return request.contains("filters") && request["filters"].is_array() &&
         !request["filters"].empty();
}

Result<std::string> created_arn(Result<state::Created> created) {
  if (!created) {
    return std::move(created).error();
  }
  return created->arn;
}

// Create, update, start and cancel: the ARN the call made or touched.
Result<std::string> run_change(const Operation& op,
                               const Json& request,
                               state::Catalog& catalog,
                               Backend& backend) {
  switch (op.id) {
    case OperationId::kCreateComponent:
      return created_arn(catalog.create_component(request));
    case OperationId::kCreateImageRecipe:
      return created_arn(catalog.create_image_recipe(request));
    case OperationId::kCreateInfrastructureConfiguration:
      return created_arn(catalog.create_infrastructure_configuration(request));
    case OperationId::kUpdateInfrastructureConfiguration:
      return catalog.update_infrastructure_configuration(request);
    case OperationId::kCreateDistributionConfiguration:
      return created_arn(catalog.create_distribution_configuration(request));
    case OperationId::kUpdateDistributionConfiguration:
      return catalog.update_distribution_configuration(request);
    case OperationId::kCreateImagePipeline: {
      Result<std::string> arn = created_arn(catalog.create_image_pipeline(request));
      if (arn) {
        backend.pipelines_changed();
      }
      return arn;
    }
    case OperationId::kUpdateImagePipeline: {
      Result<std::string> arn = catalog.update_image_pipeline(request);
      if (arn) {
        backend.pipelines_changed();
      }
      return arn;
    }
    case OperationId::kStartImagePipelineExecution:
      return backend.start_pipeline_execution(request.value("imagePipelineArn", ""));
    case OperationId::kCreateImage:
      return backend.create_image(request);
    case OperationId::kCancelImageCreation: {
      std::string arn = request.value("imageBuildVersionArn", "");
      Status cancelled = backend.cancel_image(arn);
      if (!cancelled) {
        return cancelled.error();
      }
      return arn;
    }
    default:
      return make_error(ErrorCode::kInternal, "{} is not a change", op.name);
  }
}

Reply handle_change(const Operation& op,
                    const Json& request,
                    state::Catalog& catalog,
                    Backend& backend,
                    const std::string& request_id) {
  if (auto dry_run = request.find("dryRun"); dry_run != request.end() && !dry_run->is_null()) {
    if (!dry_run->is_boolean()) {
      return error_reply(serialization("dryRun must be true or false"));
    }
    if (dry_run->get<bool>()) {
      return error_reply(
          {"InvalidRequestException", "kiln does not support dryRun: send the request without it"});
    }
  }
  StringMember token = string_member(request, "clientToken");
  if (token.error) {
    return error_reply(*token.error);
  }
  if (!token.value.empty()) {
    Result<std::optional<Json>> prior = catalog.idempotent_response(op.name, token.value, request);
    if (!prior) {
      if (prior.error().code == ErrorCode::kConflict) {
        return error_reply({"IdempotentParameterMismatchException", prior.error().message});
      }
      return error_of(prior.error(), op);
    }
    if (prior->has_value()) {
      Json body = **prior;
      body["requestId"] = request_id;
      return ok_reply(std::move(body));
    }
  }
  Result<std::string> arn = run_change(op, request, catalog, backend);
  if (!arn) {
    return error_of(arn.error(), op);
  }
  Json body = {{"requestId", request_id},
               {"clientToken", token.value},
               {std::string(op.result_member), *arn}};
  if (!token.value.empty()) {
    Status recorded = catalog.record_idempotent_response(op.name, token.value, request, body);
    if (!recorded) {
      KILN_LOG(kWarning,
               "{}: the response for clientToken {} was not recorded: {}",
               op.name,
               token.value,
               recorded.error().message);
    }
  }
  return ok_reply(std::move(body));
}

Result<Json> run_get(const Operation& op, const std::string& arn, state::Catalog& catalog) {
  switch (op.id) {
    case OperationId::kGetComponent:
      return catalog.get_component(arn);
    case OperationId::kGetImageRecipe:
      return catalog.get_image_recipe(arn);
    case OperationId::kGetInfrastructureConfiguration:
      return catalog.get_infrastructure_configuration(arn);
    case OperationId::kGetDistributionConfiguration:
      return catalog.get_distribution_configuration(arn);
    case OperationId::kGetImagePipeline:
      return catalog.get_image_pipeline(arn);
    case OperationId::kGetImage:
      return catalog.get_image(arn);
    default:
      return make_error(ErrorCode::kInternal, "{} is not a get", op.name);
  }
}

Status run_delete(const Operation& op,
                  const std::string& arn,
                  state::Catalog& catalog,
                  Backend& backend) {
  switch (op.id) {
    case OperationId::kDeleteComponent:
      return catalog.delete_component(arn);
    case OperationId::kDeleteImageRecipe:
      return catalog.delete_image_recipe(arn);
    case OperationId::kDeleteInfrastructureConfiguration:
      return catalog.delete_infrastructure_configuration(arn);
    case OperationId::kDeleteDistributionConfiguration:
      return catalog.delete_distribution_configuration(arn);
    case OperationId::kDeleteImagePipeline: {
      Status deleted = catalog.delete_image_pipeline(arn);
      if (deleted) {
        backend.pipelines_changed();
      }
      return deleted;
    }
    case OperationId::kDeleteImage:
      return catalog.delete_image(arn);
    default:
      return make_error(ErrorCode::kInternal, "{} is not a delete", op.name);
  }
}

Result<std::vector<Json>> run_list(const Operation& op,
                                   const Json& request,
                                   const state::ListQuery& query,
                                   state::Catalog& catalog) {
  auto arn = [&](std::string_view member) { return request.value(std::string(member), ""); };
  switch (op.id) {
    case OperationId::kListComponents:
      return catalog.list_components(query);
    case OperationId::kListComponentBuildVersions:
      return catalog.list_component_build_versions(arn("componentVersionArn"));
    case OperationId::kListImageRecipes:
      return catalog.list_image_recipes(query);
    case OperationId::kListInfrastructureConfigurations:
      return catalog.list_infrastructure_configurations(query);
    case OperationId::kListDistributionConfigurations:
      return catalog.list_distribution_configurations(query);
    case OperationId::kListImagePipelines:
      return catalog.list_image_pipelines(query);
    case OperationId::kListImagePipelineImages:
      return catalog.list_image_pipeline_images(arn("imagePipelineArn"), query);
    case OperationId::kListImages:
      return catalog.list_images(query);
    case OperationId::kListImageBuildVersions:
      return catalog.list_image_build_versions(arn("imageVersionArn"));
    default:
      return make_error(ErrorCode::kInternal, "{} is not a list", op.name);
  }
}

Reply handle_list(const Operation& op,
                  const Json& request,
                  state::Catalog& catalog,
                  const std::string& request_id) {
  PageRequest page = read_page_request(op, request);
  if (!page.ok) {
    return error_reply(page.error);
  }
  state::ListQuery query;
  if (std::optional<ApiError> bad = list_query(request, query)) {
    return error_reply(*bad);
  }
  bool takes_query = std::find(op.members.begin(), op.members.end(), "owner") != op.members.end() ||
                     op.id == OperationId::kListInfrastructureConfigurations ||
                     op.id == OperationId::kListDistributionConfigurations ||
                     op.id == OperationId::kListImagePipelines ||
                     op.id == OperationId::kListImagePipelineImages;
  if (!takes_query && has_filters(request)) {
    return error_reply(invalid_value(fmt::format(
        "kiln does not support filters on {}: send the request without them", op.name)));
  }
  for (std::string_view member : {"componentVersionArn", "imagePipelineArn", "imageVersionArn"}) {
    StringMember arn = string_member(request, member);
    if (arn.error) {
      return error_reply(*arn.error);
    }
  }
  Result<std::vector<Json>> items = run_list(op, request, query, catalog);
  if (!items) {
    return error_of(items.error(), op);
  }
  Json list = Json::array();
  size_t end = std::min(items->size(), page.offset + page.max_results);
  for (size_t i = page.offset; i < end; ++i) {
    list.push_back(std::move((*items)[i]));
  }
  Json body = {{"requestId", request_id}, {std::string(op.result_member), std::move(list)}};
  if (end < items->size()) {
    body["nextToken"] = make_page_token(op, request, end);
  }
  return ok_reply(std::move(body));
}

Reply handle_members(const Operation& op,
                     const Json& request,
                     state::Catalog& catalog,
                     Backend& backend,
                     const std::string& request_id);

}  // namespace

namespace {

// `text` with every byte that is not part of valid UTF-8 (surrogates included) replaced by
// U+FFFD: a message may quote a client's bytes, and the reply must still be JSON.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    std::optional<char32_t> c = next_utf8(text, &pos);
    if (!c || (*c >= 0xD800 && *c <= 0xDFFF)) {
      append_utf8(out, 0xFFFD);
      if (!c) {
        ++pos;
      }
      continue;
    }
    append_utf8(out, *c);
  }
  return out;
}

}  // namespace

Reply error_reply(const ApiError& error) {
  Reply reply;
  reply.status = error_status(error.type);
  reply.error_type = error.type;
  reply.body = {{"message", valid_utf8(error.message)}};
  return reply;
}

ParsedRequest parse_request(const Operation& op,
                            std::string_view raw_query,
                            std::string_view body) {
  ParsedRequest parsed;
  parsed.members = Json::object();
  bool has_body = op.method == "PUT" || op.method == "POST";
  if (has_body && !trim(body).empty()) {
    // The parser's own messages quote the input and name the library: the client gets where.
    if (Status utf8 = validate_utf8(body); !utf8) {
      parsed.error = serialization("The request body is not valid UTF-8");
      return parsed;
    }
    if (json_depth(body) > kMaxJsonDepth) {
      parsed.error = serialization(
          fmt::format("The request body nests more than {} levels deep", kMaxJsonDepth));
      return parsed;
    }
    try {
      parsed.members = Json::parse(body);
    } catch (const Json::parse_error& e) {
      // The position only: the library's message quotes the input and its own wording.
      parsed.error =
          serialization(fmt::format("The request body is not valid JSON (at byte {})", e.byte));
      return parsed;
    } catch (const Json::exception&) {
      // Valid syntax the library cannot hold: a number out of a double's range (358e670).
      parsed.error = serialization("The request body holds a number out of range");
      return parsed;
    }
    if (!parsed.members.is_object()) {
      parsed.error = serialization("The request body must be a JSON object");
      return parsed;
    }
  }
  for (const std::string& pair : split(raw_query, '&')) {
    size_t eq = pair.find('=');
    std::string name = sigv4::percent_decode(std::string_view(pair).substr(0, eq));
    std::string value =
        eq == std::string::npos ? "" : sigv4::percent_decode(std::string_view(pair).substr(eq + 1));
    if (!validate_utf8(name).ok() || !validate_utf8(value).ok()) {
      parsed.error = serialization("The query string is not valid UTF-8");
      return parsed;
    }
    if (std::find(op.query_members.begin(), op.query_members.end(), name) ==
            op.query_members.end() ||
        parsed.members.contains(name)) {
      continue;  // not a member of this call, or given twice (the first wins)
    }
    parsed.members[name] = std::move(value);
  }
  parsed.ok = true;
  return parsed;
}

HttpForm http_form(const Operation& op, const Json& request) {
  HttpForm form{std::string(op.method), std::string(op.path), ""};
  Json body = Json::object();
  char separator = '?';
  for (const auto& [name, value] : request.items()) {
    if (std::find(op.query_members.begin(), op.query_members.end(), name) ==
        op.query_members.end()) {
      body[name] = value;
    }
  }
  for (std::string_view name : op.query_members) {
    auto it = request.find(std::string(name));
    if (it == request.end() || it->is_null()) {
      continue;
    }
    std::string value = it->is_string() ? it->get<std::string>() : it->dump();
    form.target += fmt::format(
        "{}{}={}", separator, sigv4::uri_encode(name, false), sigv4::uri_encode(value, false));
    separator = '&';
  }
  if (op.method == "PUT" || op.method == "POST") {
    form.body = body.dump();
  }
  return form;
}

std::string make_page_token(const Operation& op, const Json& request, size_t offset) {
  return base64_encode(fmt::format("{}.{}", offset, page_check(op, request, offset)));
}

PageRequest read_page_request(const Operation& op, const Json& request) {
  PageRequest page;
  if (request.contains("maxResults") && !request["maxResults"].is_null()) {
    const Json& max = request["maxResults"];
    if (!max.is_number_integer()) {
      page.error = serialization("maxResults must be an integer");
      return page;
    }
    int64_t value = max.get<int64_t>();
    if (value < 1 || value > kMaxResults) {
      page.error = invalid_value(
          fmt::format("maxResults must be between 1 and {}, not {}", kMaxResults, value));
      return page;
    }
    page.max_results = static_cast<size_t>(value);
  }
  if (request.contains("nextToken") && !request["nextToken"].is_null()) {
    const Json& token = request["nextToken"];
    ApiError invalid{"InvalidPaginationTokenException",
                     "The nextToken is not one this call returned: start again without it"};
    if (!token.is_string()) {
      page.error = invalid;
      return page;
    }
    std::optional<std::string> decoded = base64_decode(token.get<std::string>());
    size_t dot = decoded ? decoded->find('.') : std::string::npos;
    if (dot == std::string::npos || dot == 0 || dot > 12 ||
        decoded->substr(0, dot).find_first_not_of("0123456789") != std::string::npos) {
      page.error = invalid;
      return page;
    }
    size_t offset = std::stoull(decoded->substr(0, dot));
    if (decoded->substr(dot + 1) != page_check(op, request, offset)) {
      page.error = invalid;
      return page;
    }
    page.offset = offset;
  }
  page.ok = true;
  return page;
}

Reply handle(const Operation& op,
             const Json& request,
             state::Catalog& catalog,
             Backend& backend,
             const std::string& request_id) {
  try {
    return handle_members(op, request, catalog, backend, request_id);
  } catch (const Json::exception& e) {
    // A member of the client's request read as a type it does not have, somewhere the checks
    // missed: the client's error, told without the JSON library's text (which is logged).
    KILN_LOG(kWarning, "api: {}: a request member of the wrong type: {}", op.name, e.what());
    return error_reply(serialization("A member of the request has the wrong type"));
  }
}

namespace {

Reply handle_members(const Operation& op,
                     const Json& request,
                     state::Catalog& catalog,
                     Backend& backend,
                     const std::string& request_id) {
  for (std::string_view required : op.required) {
    auto it = request.find(std::string(required));
    if (it == request.end() || it->is_null()) {
      return error_reply(
          {"InvalidRequestException", fmt::format("Missing required parameter: '{}'.", required)});
    }
  }
  switch (op.kind) {
    case OperationKind::kCreate:
    case OperationKind::kUpdate:
    case OperationKind::kAction:
      for (std::string_view member : {"imagePipelineArn", "imageBuildVersionArn"}) {
        StringMember arn = string_member(request, member);
        if (arn.error) {
          return error_reply(*arn.error);
        }
      }
      return handle_change(op, request, catalog, backend, request_id);
    case OperationKind::kGet:
    case OperationKind::kDelete: {
      StringMember arn = string_member(request, op.query_members.front());
      if (arn.error) {
        return error_reply(*arn.error);
      }
      if (op.kind == OperationKind::kGet) {
        Result<Json> found = run_get(op, arn.value, catalog);
        if (!found) {
          return error_of(found.error(), op);
        }
        return ok_reply({{"requestId", request_id}, {std::string(op.result_member), *found}});
      }
      Status deleted = run_delete(op, arn.value, catalog, backend);
      if (!deleted) {
        return error_of(deleted.error(), op);
      }
      return ok_reply({{"requestId", request_id}, {std::string(op.result_member), arn.value}});
    }
    case OperationKind::kList:
      return handle_list(op, request, catalog, request_id);
  }
  return error_reply({"ServiceException", "unknown operation kind"});
}

}  // namespace

}  // namespace kiln::api
