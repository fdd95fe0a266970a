#pragma once

// How the resource verbs reach the Image Builder resources: one interface, two ways.
//
//   embedded  (no $KILN_ENDPOINT) api::handle over the root's catalog, with a backend that
//             records images and leaves their build to the verb (in the foreground)
//   remote    ($KILN_ENDPOINT=http[s]://host:port) the API of a `kiln serve` daemon, signed with
//             SigV4; the daemon builds
//
// Both answer AWS's response objects, so the verbs print the same thing either way.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/cli/context.hpp"
#include "kiln/cli/output.hpp"

namespace kiln::cli {

class ResourceClient {
 public:
  virtual ~ResourceClient() = default;
  // Calls `operation` ("CreateComponent", a name of api's operation table) with the request's
  // members and returns AWS's response object. A create, update or action request without a
  // clientToken gets a new one, as the AWS SDKs fill it in. An error's message starts with the
  // AWS exception name ("ResourceNotFoundException: ..."), its code is the matching ErrorCode.
  virtual Result<Json> call(std::string_view operation, const Json& request) = 0;
  // True when images created through this client are built by the caller (embedded); false when
  // the daemon builds them.
  virtual bool builds_locally() const = 0;
};

// What $KILN_ENDPOINT and the credentials say: the daemon to call, or nullopt (embedded).
struct RemoteSettings {
  std::string endpoint;  // "http://127.0.0.1:8088", no trailing slash
  std::string region;    // $KILN_REGION, else "local"
  std::string access_key_id;
  std::string secret_access_key;
};
// Reads $KILN_ENDPOINT, $KILN_REGION, $KILN_ACCESS_KEY_ID/$KILN_SECRET_ACCESS_KEY (else
// $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY). An endpoint that is not http[s]://, or no key, is
// an error.
Result<std::optional<RemoteSettings>> remote_settings_from_environment();

// The client of this command: remote when $KILN_ENDPOINT is set, else embedded over the context's
// catalog (opened now).
Result<std::unique_ptr<ResourceClient>> open_resource_client(Context& context);

// A daemon's error response as the client's error: the exception name from x-amzn-ErrorType
// (anything after ':' dropped) or the body's "__type", the message from the body's "message" (or
// "Message"); without a name, "HTTP <status>".
Error error_from_response(long status, std::string_view error_type, std::string_view body);

}  // namespace kiln::cli
