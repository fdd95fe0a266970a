#pragma once

// The options of `kiln-toe run`, from flags and from a --config JSON file (awstoe's documented
// keys). Flags win over the file; `documents` and `parameters` may come from one of them only.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/result.hpp"
#include "kiln/toe/document_run.hpp"
#include "kiln/toe/run_log.hpp"

namespace kiln::toe {

struct DocumentSource {
  std::string path;          // a local path or s3://bucket/key
  ParameterList parameters;  // this document's own parameters (config files only)
};

struct RunOptions {
  std::vector<DocumentSource> documents;
  ParameterList parameters;         // for every document
  std::vector<std::string> phases;  // empty: every phase
  std::string execution_id;         // empty: a new UUID
  std::filesystem::path log_directory = ".";
  std::filesystem::path state_directory;  // empty: <log directory>/.kiln-toe-state
  bool trace = false;
  RunLog::Echo echo = RunLog::Echo::kProgress;  // what reaches stderr without --trace
  // Upload of the log folder after the run (--log-s3-bucket-name/--log-s3-key-prefix).
  std::string log_s3_bucket;
  std::string log_s3_prefix;
  std::vector<std::string> warnings;  // accepted options kiln-toe does not act on
};

// Options as given on the command line; unset fields are nullopt/empty.
struct RunFlags {
  std::optional<std::string> config;
  std::optional<std::string> documents;   // "a.yaml,b.yaml"
  std::optional<std::string> parameters;  // "n1=v1,n2=v2"
  std::optional<std::string> phases;      // "build,validate"
  std::optional<std::string> execution_id;
  std::optional<std::string> log_directory;
  std::optional<std::string> state_directory;
  std::optional<std::string> log_s3_bucket;
  std::optional<std::string> log_s3_prefix;
  std::vector<std::string> ignored;  // CloudWatch flags and the like that were given
  bool trace = false;
};

// Parses "n1=v1,n2=v2". A name without '=' or with an empty value is an error.
Result<ParameterList> parse_parameter_list(const std::string& text);

// Splits "a,b,c", dropping empty items.
std::vector<std::string> parse_comma_list(const std::string& text);

// Reads a config file (awstoe's JSON keys) into options.
Result<RunOptions> load_run_config(const std::string& json_text, const std::string& path);

// Combines flags and the config file they name (flags win).
Result<RunOptions> resolve_run_options(const RunFlags& flags);

}  // namespace kiln::toe
