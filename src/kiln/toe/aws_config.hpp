#pragma once

// Where S3 is and which keys sign requests to it, found the way the AWS CLI finds them: the
// environment, then the shared AWS files (~/.aws/config and ~/.aws/credentials). Reads files and
// nothing else; never logs a secret.

#include <string>

#include "kiln/base/result.hpp"
#include "kiln/net/s3_client.hpp"
#include "kiln/toe/action.hpp"

namespace kiln::toe {

using net::S3Config;  // net/s3_client.hpp

// The configuration the AWS CLI would use, read through `env`:
//   endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, then the profile's `services` section
//     (`s3 =` / `endpoint_url =`), then the profile's `endpoint_url`; none of them when
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true;
//   region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1;
//   keys: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the profile in the
//     credentials file, else the profile in the config file.
// The profile is AWS_PROFILE (or AWS_DEFAULT_PROFILE, else "default"); the files are
// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE, by default ~/.aws/credentials and ~/.aws/config
// with ~ from HOME. Missing files are fine; a profile named explicitly but found in neither file
// is an error, and so is a profile that gets credentials in a way kiln does not implement
// (role_arn, credential_process, SSO, web identity) without also holding static keys.
Result<S3Config> load_s3_config(const EnvLookup& env);

}  // namespace kiln::toe
