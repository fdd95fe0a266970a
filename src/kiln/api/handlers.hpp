#pragma once

// The operations over the catalog and the Backend, without HTTP: a request's members in, AWS's
// response (or error) out. The server (server.cpp) adds signatures, routing and threads.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kiln/api/backend.hpp"
#include "kiln/api/errors.hpp"
#include "kiln/api/operations.hpp"
#include "kiln/state/catalog.hpp"

namespace kiln::api {

struct Reply {
  int status = 200;
  std::string error_type;  // set for errors (the x-amzn-ErrorType header)
  Json body;
};

Reply error_reply(const ApiError& error);

// The request's members: the query-string members of `op` from `raw_query` (percent-decoded;
// other query parameters are ignored, as AWS does), the others from `body` (a JSON object; an
// empty body is {}). A body that is not JSON is SerializationException; one that is not an
// object, or a query member in it twice, InvalidRequestException.
struct ParsedRequest {
  bool ok = false;
  Json members;
  ApiError error;
};
ParsedRequest parse_request(const Operation& op, std::string_view raw_query, std::string_view body);

// The inverse, for a client: `request`'s members as the HTTP request of `op`. The query-string
// members (strings as they are, other values as JSON) go percent-encoded after the path in the
// table's order ("/GetComponent?componentBuildVersionArn=arn%3Aaws%3A..."); the others are the
// JSON body of a PUT or POST ("{}" when none), and a GET or DELETE has no body.
struct HttpForm {
  std::string method;
  std::string target;  // path and query
  std::string body;
};
HttpForm http_form(const Operation& op, const Json& request);

// --- Pagination -------------------------------------------------------------------------------
// nextToken is opaque: base64 of "<offset>.<check>", the check a digest of the operation, the
// request's other members and the offset, so a token only works for the call that made it.

std::string make_page_token(const Operation& op, const Json& request, size_t offset);
struct PageRequest {
  bool ok = false;
  size_t offset = 0;
  size_t max_results = kMaxResults;
  ApiError error;  // InvalidParameterValueException (maxResults), InvalidPaginationTokenException
};
PageRequest read_page_request(const Operation& op, const Json& request);

// --- Dispatch ---------------------------------------------------------------------------------

// Runs `op` with the request's members: checks the required members (InvalidRequestException),
// answers a repeated clientToken from the catalog's record (IdempotentParameterMismatchException
// when the token came with another request), calls the catalog or the backend, and shapes the
// response: {requestId, clientToken, <ARN member>} for create, update, start and cancel;
// {requestId, <object>} for get; {requestId, <list>, nextToken} for list; {requestId, <ARN>}
// for delete.
Reply handle(const Operation& op,
             const Json& request,
             state::Catalog& catalog,
             Backend& backend,
             const std::string& request_id);

}  // namespace kiln::api
