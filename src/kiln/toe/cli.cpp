#include "kiln/toe/cli.hpp"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>

#include "kiln/base/file.hpp"
#include "kiln/base/log.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/toe/runner.hpp"

#ifndef KILN_VERSION
#define KILN_VERSION "0.0.0"
#endif

namespace kiln::toe {
namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_signal(int signal) {
  if (g_cancel.exchange(true)) {
    // A second interrupt: stop at once.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
  }
}

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void print_error(std::string_view message) {
  std::fprintf(stderr, "kiln-toe: error: %.*s\n", static_cast<int>(message.size()), message.data());
}

int validate(const std::vector<std::string>& paths) {
  size_t problems = 0;
  for (const std::string& path : paths) {
    document::ParseResult parsed = document::parse_document_file(path);
    for (const document::Diagnostic& d : parsed.diagnostics) {
      std::string text = parsed.document ? parsed.document->text : std::string();
      if (text.empty()) {
        Result<std::string> source = read_file(path);
        text = source ? *source : std::string();
      }
      std::fprintf(stderr, "%s\n", document::format_diagnostic_with_source(d, text).c_str());
    }
    problems += parsed.diagnostics.size();
    if (parsed.document) {
      std::printf("%s: valid\n", path.c_str());
    }
  }
  if (problems > 0) {
    std::fprintf(stderr, "kiln-toe: %zu problem%s found\n", problems, problems == 1 ? "" : "s");
    return kExitFailed;
  }
  return kExitSuccess;
}

int run(const RunFlags& flags) {
  Result<RunOptions> options = resolve_run_options(flags);
  if (!options) {
    print_error(options.error().message);
    return kExitUsage;
  }
  for (const std::string& warning : options->warnings) {
    std::fprintf(stderr, "kiln-toe: warning: %s\n", warning.c_str());
  }
  install_signal_handlers();
  SystemClock clock;
  document::SystemProbe probe;
  Runner runner(clock, probe, process_env(), &g_cancel);
  Result<RunResult> result = runner.run(*options);
  if (!result) {
    print_error(result.error().message);
    return kExitUsage;
  }
  std::cout << json_text(summary(*result), 2) << '\n';
  if (result->status == RunStatus::kRebootRequested) {
    std::fprintf(stderr,
                 "kiln-toe: a step asked for a reboot; after it, run the same command again to "
                 "resume\n");
  }
  return exit_code_for(result->status);
}

void add_run_flags(CLI::App& cmd, RunFlags& flags) {
  cmd.add_option("-c,--config", flags.config, "JSON file with the run's configuration");
  cmd.add_option("-d,--documents", flags.documents, "Documents to run: a.yaml,b.yaml");
  cmd.add_option("-p,--phases", flags.phases, "Phases to run: build,validate (default: all)");
  cmd.add_option("--parameters", flags.parameters, "Parameters: name1=value1,name2=value2");
  cmd.add_option("-i,--execution-id", flags.execution_id, "Execution id (default: a new UUID)");
  cmd.add_option("-l,--log-directory", flags.log_directory, "Where the TOE_ log folder goes");
  cmd.add_option("-s,--state-directory",
                 flags.state_directory,
                 "Where reboot state is kept (default: <log-directory>/.kiln-toe-state)");
  cmd.add_option("-b,--log-s3-bucket-name", flags.log_s3_bucket, "Upload the logs to this bucket");
  cmd.add_option("-k,--log-s3-key-prefix", flags.log_s3_prefix, "Key prefix for uploaded logs");
  cmd.add_flag("-t,--trace", flags.trace, "Print every line of step output on stderr");
}

void add_ignored_flags(CLI::App& cmd, RunFlags& flags) {
  for (const char* name : {"--cw-log-group",
                           "--cw-log-stream",
                           "--cw-log-region",
                           "--log-s3-bucket-owner",
                           "--document-s3-bucket-owner"}) {
    cmd.add_option_function<std::string>(
           name,
           [&flags, name](const std::string&) { flags.ignored.push_back(name); },
           "Accepted for awstoe compatibility; not used")
        ->group("awstoe compatibility");
  }
  cmd.add_flag_function(
         "--cw-ignore-failures",
         [&flags](int64_t) { flags.ignored.push_back("--cw-ignore-failures"); },
         "Accepted for awstoe compatibility; not used")
      ->group("awstoe compatibility");
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{"kiln-toe: runs AWSTOE component documents (build, validate and test phases)",
               "kiln-toe"};
  app.set_version_flag("-v,--version", std::string("kiln-toe ") + KILN_VERSION);
  app.require_subcommand(1);

  RunFlags run_flags;
  CLI::App* run_cmd = app.add_subcommand("run", "Run the phases of component documents");
  add_run_flags(*run_cmd, run_flags);
  add_ignored_flags(*run_cmd, run_flags);

  std::string validate_documents;
  bool validate_trace = false;
  CLI::App* validate_cmd = app.add_subcommand("validate", "Check component documents");
  validate_cmd->add_option("-d,--documents", validate_documents, "Documents: a.yaml,b.yaml")
      ->required();
  validate_cmd->add_flag("-t,--trace", validate_trace, "Verbose output");
  std::string os_platforms;
  validate_cmd->add_option("--os-platforms", os_platforms, "Accepted for awstoe compatibility");
  std::string bucket_owner;
  validate_cmd->add_option(
      "--document-s3-bucket-owner", bucket_owner, "Accepted for awstoe compatibility");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (validate_trace || run_flags.trace) {
    log::set_level(log::Level::kDebug);
  }
  if (*validate_cmd) {
    return validate(parse_comma_list(validate_documents));
  }
  return run(run_flags);
}

}  // namespace kiln::toe
