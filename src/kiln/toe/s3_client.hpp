#pragma once

// kiln-toe's names for the S3 client, which lives in net/ (net/s3_client.hpp) so that notify's log
// uploads use the same code.

#include "kiln/net/s3_client.hpp"
#include "kiln/toe/aws_config.hpp"
#include "kiln/toe/http_transfer.hpp"

namespace kiln::toe {

using net::parse_s3_uri;
using net::S3Client;
using net::S3Listing;
using net::S3Object;
using net::S3RequestOptions;
using net::S3Uri;

}  // namespace kiln::toe
