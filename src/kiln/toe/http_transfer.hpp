#pragma once

// kiln-toe's names for the libcurl transfers, which live in net/ (net/http_transfer.hpp) so that
// modules other than the runner (notify's webhooks and log uploads) use the same code.

#include "kiln/net/http_transfer.hpp"

namespace kiln::toe {

using net::AwsSigning;
using net::BodySink;
using net::error_code_for_http_status;
using net::http_perform;
using net::HttpRequest;
using net::HttpResponse;
using net::redact_url;
using net::TransferControl;
using net::uri_encode;

}  // namespace kiln::toe
