// kiln serve: the daemon. The Image Builder API on --listen (loopback by default, every request
// SigV4-signed), the build queue, pipeline schedules, notifications and S3 logs (docs/service.md).
// SIGTERM or SIGINT: no new builds, running ones get --shutdown-grace to finish.

#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "kiln/api/server.hpp"
#include "kiln/base/file.hpp"
#include "kiln/build/workflow.hpp"
#include "kiln/cli/verbs.hpp"
#include "kiln/service/service.hpp"

#ifndef KILN_BUILD_TOE_BUNDLE
#define KILN_BUILD_TOE_BUNDLE ""
#endif
#ifndef KILN_SOURCE_SHARE_DIR
#define KILN_SOURCE_SHARE_DIR ""
#endif

namespace kiln::cli {
namespace {

using Json = nlohmann::ordered_json;

struct ServeArgs {
  std::string listen = "127.0.0.1:8088";
  std::string credentials;
  std::string tls_certificate;
  std::string tls_private_key;
  int max_builds = 2;
  int shutdown_grace = 60;
  std::string notifications;
  bool notify_every_status = false;
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  bool public_metrics = false;
  std::string log_root;
  int request_timeout = 20;
  int max_connections_per_client = 64;
  int max_connections = 4096;
};

Result<std::pair<std::string, int>> parse_listen(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return make_error(ErrorCode::kInvalidArgument, "--listen {}: expected ADDRESS:PORT", text);
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    port = std::stoi(text.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return make_error(ErrorCode::kInvalidArgument, "--listen {}: bad port", text);
  }
  return std::make_pair(host, port);
}

std::string env_or(const char* name, const std::string& fallback = {}) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : fallback;
}

int serve(Context& context, const ServeArgs& args) {
  // A daemon lives for months: large buffers (a build's compression windows, tens of MB) are
  // mapped and unmapped rather than left in malloc's arenas. Without this, glibc raises its
  // threshold after the first such buffer is freed, and later ones stay in the arenas of the
  // threads that used them (bench/soak_bench.sh: +6 MB after 50 builds).
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  Result<std::pair<std::string, int>> address = parse_listen(args.listen);
  if (!address) {
    return report(address.error());
  }
  Result<state::Account> account = state::Account::from_environment();
  if (!account) {
    return report(account.error());
  }
  Result<build::ToeBundle> toe = build::find_toe_bundle(KILN_BUILD_TOE_BUNDLE);
  if (!toe) {
    return report(toe.error());
  }
  api::ServerOptions server_options;
  server_options.host = address->first;
  server_options.port = address->second;
  server_options.region = account->region;
  server_options.tls_certificate = args.tls_certificate;
  server_options.tls_private_key = args.tls_private_key;
  server_options.public_metrics = args.public_metrics;
  server_options.request_timeout = std::chrono::seconds(args.request_timeout);
  server_options.max_connections_per_client = static_cast<size_t>(args.max_connections_per_client);
  server_options.max_connections = static_cast<size_t>(args.max_connections);
  Result<std::map<std::string, std::string>> credentials = api::load_credentials(args.credentials);
  if (!credentials) {
    return report(credentials.error());
  }
  if (credentials->empty()) {
    return report(make_error(ErrorCode::kInvalidArgument,
                             "no access keys: set KILN_ACCESS_KEY_ID and KILN_SECRET_ACCESS_KEY "
                             "or give --credentials FILE (every request must be signed)"));
  }
  server_options.credentials = *credentials;

  // The managed components, synced into the catalog as every kiln command opening it does; the
  // daemon recovers interrupted builds itself, in the background, once it listens.
  context.recover_builds = false;
  Result<state::Catalog*> catalog = context.catalog();
  if (!catalog) {
    return report(catalog.error());
  }
  // Local log folders only in the log root: API key holders name folders, the operator the root.
  std::filesystem::path log_root = resolve_log_root(args.log_root, context.root);
  (*catalog)->set_log_root(log_root);

  service::ServiceOptions options;
  options.root = context.root;
  options.log_root = log_root;
  options.helpers = context.helpers;
  options.toe = *toe;
  options.share_dir = build::find_share_dir(KILN_SOURCE_SHARE_DIR);
  options.account = *account;
  options.max_concurrent_builds = args.max_builds;
  options.shutdown_grace = std::chrono::seconds(args.shutdown_grace);
  options.notify_every_status = args.notify_every_status;
  if (!args.notifications.empty()) {
    Result<std::string> text = read_file(args.notifications);
    if (!text) {
      return report(text.error());
    }
    Json config = Json::parse(*text, nullptr, false);
    Result<std::vector<notify::Topic>> topics = notify::topics_from_json(config);
    if (config.is_discarded() || !topics) {
      return report(
          config.is_discarded()
              ? make_error(ErrorCode::kInvalidArgument, "{}: not JSON", args.notifications)
              : topics.error().with_context(args.notifications));
    }
    options.topics = *topics;
  }
  options.s3.endpoint = args.s3_endpoint;
  options.s3.region = args.s3_region;
  options.s3.access_key_id = env_or("AWS_ACCESS_KEY_ID");
  options.s3.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY");

  // Signals are taken by one thread with sigwait; every other thread has them blocked.
  sigset_t signals;
  ::sigemptyset(&signals);
  ::sigaddset(&signals, SIGTERM);
  ::sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Recovery runs once the API listens (images being recovered answer as they are).
  options.defer_recovery = true;
  options.on_recovered = [](const service::RecoveryReport& recovered) {
    for (const std::string& arn : recovered.failed) {
      std::fprintf(
          stderr, "kiln serve: %s was interrupted by a previous stop: FAILED\n", arn.c_str());
    }
    std::fprintf(stderr,
                 "kiln serve: recovery done: %zu interrupted builds failed, %zu instances "
                 "terminated\n",
                 recovered.failed.size(),
                 recovered.reaped_instances.size());
    std::fflush(stderr);
  };

  SystemClock clock;
  Result<std::unique_ptr<service::Service>> started =
      service::Service::start(std::move(options), clock);
  if (!started) {
    return report(started.error());
  }
  service::Service& svc = **started;
  api::Server server(
      server_options, [&svc] { return svc.open_catalog(); }, svc, clock);
  if (Status bound = server.bind(); !bound) {
    svc.shutdown();
    return report(bound.error());
  }
  std::fprintf(stderr,
               "kiln serve: listening on %s://%s:%d (region %s, account %s, %d builds at once, "
               "logs in %s)\n",
               args.tls_certificate.empty() ? "http" : "https",
               address->first.c_str(),
               server.port(),
               account->region.c_str(),
               account->account_id.c_str(),
               args.max_builds,
               log_root.c_str());
  for (const std::string& arn : svc.queued_again()) {
    std::fprintf(stderr, "kiln serve: %s queued again\n", arn.c_str());
  }
  std::fflush(stderr);
  svc.start_recovery();

  std::thread waiter([&] {
    int signal = 0;
    ::sigwait(&signals, &signal);
    std::fprintf(stderr, "kiln serve: signal %d: stopping\n", signal);
    server.stop();
  });
  Status served = server.serve();
  // The server stopped (a signal, or it failed): finish the builds within the grace period.
  if (!served) {
    ::kill(::getpid(), SIGTERM);  // wakes the waiter
  }
  waiter.join();
  svc.shutdown();
  std::fprintf(stderr, "kiln serve: stopped\n");
  return served ? 0 : report(served.error());
}

}  // namespace

Verb add_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Run the daemon: the Image Builder API, build queue, schedules, notifications");
  cmd->add_option("--listen", args->listen, "ADDRESS:PORT to listen on (default 127.0.0.1:8088)");
  cmd->add_option("--credentials",
                  args->credentials,
                  "Access keys in the AWS credentials file format (besides KILN_ACCESS_KEY_ID "
                  "and KILN_SECRET_ACCESS_KEY)");
  cmd->add_option("--tls-certificate", args->tls_certificate, "PEM certificate: serve HTTPS");
  cmd->add_option("--tls-private-key", args->tls_private_key, "PEM private key of the certificate");
  cmd->add_option("--max-builds", args->max_builds, "Builds that may run at once (default 2)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--shutdown-grace",
                  args->shutdown_grace,
                  "Seconds running builds get to finish on SIGTERM (default 60)")
      ->check(CLI::Range(0, 86400));
  cmd->add_option("--notifications", args->notifications, "Topics and their subscriptions (JSON)");
  cmd->add_flag("--notify-every-status",
                args->notify_every_status,
                "Notify on every status change, not only AVAILABLE and FAILED");
  cmd->add_option("--s3-endpoint", args->s3_endpoint, "S3-compatible endpoint for s3:// logs");
  cmd->add_option("--s3-region", args->s3_region, "Region to sign S3 requests for");
  cmd->add_option("--log-root",
                  args->log_root,
                  "The folder build logs go to; local log folders of infrastructure "
                  "configurations must be in it (default $KILN_LOG_ROOT, else <root>/logs)");
  cmd->add_flag("--public-metrics",
                args->public_metrics,
                "Serve GET /metrics without a signature (for a Prometheus that cannot sign)");
  cmd->add_option("--request-timeout",
                  args->request_timeout,
                  "Seconds a connection gets for a whole request, headers and body (default 20)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--max-connections-per-client",
                  args->max_connections_per_client,
                  "Connections one client address may keep open (default 64)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections",
                  args->max_connections,
                  "Connections open at once in all (default 4096)")
      ->check(CLI::Range(1, 1000000));
  return {cmd, [args](Context& context) { return serve(context, *args); }};
}

}  // namespace kiln::cli
