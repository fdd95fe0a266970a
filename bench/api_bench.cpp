// The Image Builder API's request latency and throughput (bench/README.md): GetImage, ListImages
// and ListImageBuildVersions against an in-process api::Server holding 1,000 images, called the
// way the AWS CLI calls it (HTTP on loopback, every request signed with SigV4 by libcurl), and
// beside it the same GetImage through api::handle directly (no HTTP, no signature): what HTTP and
// SigV4 cost. Figures only: nothing here fails on a slow machine; it exits non-zero only when kiln
// answers wrong (a status other than the one expected, another image than the one asked for, a
// page walk that does not give every build once).
//
//   kiln_api_bench [--images N] [--requests N] [--seconds S] [--walks N] [--keep]
//
// The catalog (a temporary root under $TMPDIR, else /tmp) holds one component, one recipe, one
// infrastructure configuration and N images (default 1,000) of that recipe: Catalog::create_image
// N times, so builds 1..N of one image version; the seeding is timed too. The server has the
// daemon's code (api::Server: Beast/Asio, its worker pool, one catalog per thread) with a Backend
// that builds nothing: only reads are measured, so no build is ever asked for.
//
// Each client is one libcurl easy handle, kept for all its requests so that connections are
// reused (as an SDK's connection pool does); libcurl signs (CURLOPT_AWS_SIGV4
// "aws:amz:local:imagebuilder"). A request's time is curl_easy_perform's: signing, sending,
// the server's whole work, receiving. Checking the answer happens outside the timed part.
//
// Client and server share this process and the machine's cores: the throughput figures are what
// one machine does serving itself, not what a server does for remote clients.

#include <curl/curl.h>
#include <sys/resource.h>
#include <sys/statfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kiln/api/backend.hpp"
#include "kiln/api/handlers.hpp"
#include "kiln/api/operations.hpp"
#include "kiln/api/server.hpp"
#include "kiln/api/sigv4.hpp"
#include "kiln/base/file.hpp"
#include "kiln/base/time.hpp"
#include "kiln/state/catalog.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::Result;
using kiln::api::Json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kAccessKey = "AKIDKILNAPIBENCH0001";
constexpr const char* kSecret = "kiln-api-bench-secret";
constexpr const char* kSigV4 = "aws:amz:local:imagebuilder";

struct Options {
  int images = 1000;
  int requests = 2000;
  double seconds = 3.0;
  int walks = 5;
  bool keep = false;
};

[[noreturn]] void die(std::string_view message) {
  fmt::print(stderr, "kiln_api_bench: {}\n", message);
  std::exit(1);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--keep") {
      options.keep = true;
    } else if ((arg == "--images" || arg == "--requests" || arg == "--seconds" ||
                arg == "--walks") &&
               i + 1 < argc) {
      double value = std::strtod(argv[++i], nullptr);
      if (value <= 0) {
        die(fmt::format("{} takes a positive number", arg));
      }
      if (arg == "--images") {
        options.images = static_cast<int>(value);
      } else if (arg == "--requests") {
        options.requests = static_cast<int>(value);
      } else if (arg == "--seconds") {
        options.seconds = value;
      } else {
        options.walks = static_cast<int>(value);
      }
    } else {
      die("usage: kiln_api_bench [--images N] [--requests N] [--seconds S] [--walks N] [--keep]");
    }
  }
  return options;
}

double ms_between(SteadyClock::time_point start, SteadyClock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

// CPU time of this process (every thread: the clients and the server).
double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string file_system_name(const fs::path& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) {
    return "unknown";
  }
  switch (static_cast<unsigned long>(info.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x9123683E:
      return "btrfs";
    case 0x58465342:
      return "xfs";
    case 0x794C7630:
      return "overlayfs";
    default:
      return fmt::format("0x{:x}", static_cast<unsigned long>(info.f_type));
  }
}

std::string now_text() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &local);
  return text;
}

// A deterministic generator (xorshift), so every run asks for the same images.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// Latencies in ms: median, tail and maximum.
struct Stats {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};

Stats summarize(std::vector<double> ms) {
  Stats stats;
  if (ms.empty()) {
    return stats;
  }
  std::sort(ms.begin(), ms.end());
  stats.n = ms.size();
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  auto rank = [&](double p) {
    size_t index = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<size_t>(index, 1, ms.size()) - 1];
  };
  stats.p50 = rank(0.50);
  stats.p90 = rank(0.90);
  stats.p99 = rank(0.99);
  stats.max = ms.back();
  double sum = 0;
  for (double v : ms) {
    sum += v;
  }
  stats.mean = sum / static_cast<double>(ms.size());
  return stats;
}

Json stats_json(const Stats& stats) {
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  return Json{{"n", stats.n},
              {"p50_ms", round3(stats.p50)},
              {"p90_ms", round3(stats.p90)},
              {"p99_ms", round3(stats.p99)},
              {"max_ms", round3(stats.max)},
              {"mean_ms", round3(stats.mean)}};
}

// A Backend that builds nothing: this benchmark only reads, and measures the API layer.
class NoBuilds final : public kiln::api::Backend {
 public:
  Result<std::string> create_image(const Json&) override { return refused(); }
  Result<std::string> start_pipeline_execution(const std::string&) override { return refused(); }
  kiln::Status cancel_image(const std::string&) override { return refused().error(); }
  void pipelines_changed() override {}
  std::string metrics() override { return ""; }

 private:
  static Result<std::string> refused() {
    return kiln::make_error(kiln::ErrorCode::kUnavailable, "kiln_api_bench builds nothing");
  }
};

// One API client: a libcurl easy handle kept for every request (its connection is reused while
// the server keeps it open), signing with SigV4 unless told not to.
class Client {
 public:
  struct Response {
    long status = 0;
    std::string body;
    std::string error_type;  // x-amzn-ErrorType
    double ms = 0;           // curl_easy_perform
    // From the response's first byte to its last: the headers and the body, which the server
    // writes separately, arriving apart.
    double after_first_byte_ms = 0;
  };

  // `secret`: nullptr sends no signature at all.
  Client(int port, const char* secret) : base_(fmt::format("http://127.0.0.1:{}", port)) {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) {
      die("curl_easy_init failed");
    }
    headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Client::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Client::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "kiln-api-bench");
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    if (secret != nullptr) {
      userpwd_ = fmt::format("{}:{}", kAccessKey, secret);
      curl_easy_setopt(curl_, CURLOPT_AWS_SIGV4, kSigV4);
      curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd_.c_str());
    }
  }
  ~Client() {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET path?name=<value percent-encoded>.
  Response get(std::string_view path, std::string_view name, std::string_view value) {
    char* escaped = curl_easy_escape(curl_, value.data(), static_cast<int>(value.size()));
    std::string url = fmt::format("{}{}?{}={}", base_, path, name, escaped);
    curl_free(escaped);
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    return perform(url);
  }

  Response post(std::string_view path, const std::string& body) {
    std::string url = base_ + std::string(path);
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
    return perform(url);
  }

  // Connections opened so far (a reused connection opens none).
  long connections() const { return connections_; }

 private:
  Response perform(const std::string& url) {
    response_ = Response();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    SteadyClock::time_point start = SteadyClock::now();
    CURLcode code = curl_easy_perform(curl_);
    response_.ms = ms_between(start, SteadyClock::now());
    if (code != CURLE_OK) {
      die(fmt::format("{}: {}", url, curl_easy_strerror(code)));
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response_.status);
    curl_off_t first_byte_us = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(curl_, CURLINFO_STARTTRANSFER_TIME_T, &first_byte_us);
    curl_easy_getinfo(curl_, CURLINFO_TOTAL_TIME_T, &total_us);
    response_.after_first_byte_ms = static_cast<double>(total_us - first_byte_us) / 1e3;
    long opened = 0;
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &opened);
    connections_ += opened;
    return std::move(response_);
  }

  static size_t on_body(char* data, size_t size, size_t count, void* self) {
    static_cast<Client*>(self)->response_.body.append(data, size * count);
    return size * count;
  }
  static size_t on_header(char* data, size_t size, size_t count, void* self) {
    std::string_view line(data, size * count);
    constexpr std::string_view kName = "x-amzn-errortype:";
    if (line.size() > kName.size()) {
      std::string lower;
      for (char c : line.substr(0, kName.size())) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (lower == kName) {
        std::string_view value = line.substr(kName.size());
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
          value.remove_prefix(1);
        }
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
          value.remove_suffix(1);
        }
        static_cast<Client*>(self)->response_.error_type = std::string(value);
      }
    }
    return size * count;
  }

  std::string base_;
  std::string userpwd_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  Response response_;
  long connections_ = 0;
};

// Wrong answers: each is printed once it happens; any makes the exit status 1.
std::atomic<int> wrong_answers{0};

void wrong(std::string_view what) {
  if (wrong_answers++ < 10) {
    fmt::print(stderr, "kiln_api_bench: WRONG: {}\n", what);
  }
}

// GetImage of `arn` answered 200 with that image (a full parse: outside the timed part).
void check_get_image(const Client::Response& response, const std::string& arn) {
  if (response.status != 200) {
    wrong(fmt::format("GetImage {}: HTTP {} {}", arn, response.status, response.error_type));
    return;
  }
  Json body = Json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.contains("image") || !body["image"].is_object() ||
      body["image"].value("arn", "") != arn || !body.contains("requestId")) {
    wrong(fmt::format("GetImage {}: another answer: {}", arn, response.body.substr(0, 200)));
  }
}

// The same check without parsing (the throughput runs, where the client's CPU is the server's):
// the image's own ARN member, as the server writes it.
bool quick_check_get_image(const Client::Response& response, const std::string& arn) {
  return response.status == 200 &&
         response.body.find("\"arn\":\"" + arn + "\"") != std::string::npos;
}

void print_row(std::string_view name, const Stats& stats, std::string_view note = "") {
  fmt::print("{:<34} {:>6} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f}  {}\n",
             name,
             stats.n,
             stats.p50,
             stats.p90,
             stats.p99,
             stats.max,
             stats.mean,
             note);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kiln;
  Options options = parse_options(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  Result<TempDir> temp = TempDir::create("kiln-api-bench-");
  if (!temp) {
    die(temp.error().message);
  }
  if (options.keep) {
    temp->keep();
  }
  const fs::path db = temp->path() / "state.db";
  std::string load_before = load_average();
  std::string date = now_text();
  fmt::print("kiln_api_bench: {} images, {} GetImage requests, {} s per throughput run, {} walks\n",
             options.images,
             options.requests,
             options.seconds,
             options.walks);
  fmt::print("date {}, {} cpus, load average {}\n",
             date,
             std::thread::hardware_concurrency(),
             load_before);
  fmt::print("catalog {} ({})\n\n", db.string(), file_system_name(temp->path()));

  // --- The catalog -------------------------------------------------------------------------
  SystemClock clock;
  state::Account account;
  auto open_catalog = [&]() { return state::Catalog::open(db, account, clock); };
  Result<std::unique_ptr<state::Catalog>> seeded = open_catalog();
  if (!seeded) {
    die(seeded.error().message);
  }
  state::Catalog& catalog = **seeded;
  const std::string document =
      "name: bench\n"
      "schemaVersion: 1.0\n"
      "phases:\n"
      "  - name: build\n"
      "    steps:\n"
      "      - name: Hello\n"
      "        action: ExecuteBash\n"
      "        inputs:\n"
      "          commands:\n"
      "            - echo hello > /etc/hello\n";
  auto created = [](Result<state::Created> result, std::string_view what) {
    if (!result) {
      die(fmt::format("{}: {}", what, result.error().message));
    }
    return result->arn;
  };
  std::string component = created(catalog.create_component({{"name", "bench"},
                                                            {"semanticVersion", "1.0.0"},
                                                            {"platform", "Linux"},
                                                            {"data", document}}),
                                  "CreateComponent");
  std::string recipe = created(
      catalog.create_image_recipe({{"name", "bench"},
                                   {"semanticVersion", "1.0.0"},
                                   {"parentImage", "busybox"},
                                   {"components", Json::array({{{"componentArn", component}}})}}),
      "CreateImageRecipe");
  std::string infrastructure = created(
      catalog.create_infrastructure_configuration(
          {{"name", "bench"}, {"instanceProfileName", "none"}, {"instanceTypes", {"t3.micro"}}}),
      "CreateInfrastructureConfiguration");
  std::vector<std::string> images;
  std::vector<double> seed_ms;
  const Json image_request = {{"imageRecipeArn", recipe},
                              {"infrastructureConfigurationArn", infrastructure}};
  SteadyClock::time_point seed_start = SteadyClock::now();
  double seed_cpu_start = cpu_ms();
  for (int i = 0; i < options.images; ++i) {
    SteadyClock::time_point start = SteadyClock::now();
    images.push_back(created(catalog.create_image(image_request), "CreateImage"));
    seed_ms.push_back(ms_between(start, SteadyClock::now()));
  }
  double seed_total_ms = ms_between(seed_start, SteadyClock::now());
  double seed_cpu_ms = cpu_ms() - seed_cpu_start;
  Stats seed = summarize(seed_ms);
  // image/bench/1.0.0/<build> -> image/bench/1.0.0
  const std::string version_arn = images.front().substr(0, images.front().rfind('/'));
  fmt::print(
      "seeding: {} x Catalog::create_image in {:.1f} ms ({:.1f} ms CPU): {:.3f} ms each "
      "(p50 {:.3f}, p99 {:.3f}, max {:.3f})\n\n",
      options.images,
      seed_total_ms,
      seed_cpu_ms,
      seed_total_ms / options.images,
      seed.p50,
      seed.p99,
      seed.max);

  // --- The server ----------------------------------------------------------------------------
  NoBuilds backend;
  api::ServerOptions server_options;
  server_options.port = 0;
  server_options.credentials = {{kAccessKey, kSecret}};
  api::Server server(server_options, open_catalog, backend, clock);
  if (Status bound = server.bind(); !bound) {
    die(bound.error().message);
  }
  std::thread serving([&] {
    if (Status served = server.serve(); !served) {
      die(served.error().message);
    }
  });
  const int port = server.port();

  // --- GetImage: HTTP + SigV4, against api::handle directly and sigv4::verify alone ---------
  const api::Operation& get_image = api::operation(api::OperationId::kGetImage);
  Client client(port, kSecret);
  Random random(0x9e3779b97f4a7c15ULL);
  const int warmup = std::max(50, options.requests / 10);
  for (int i = 0; i < warmup; ++i) {  // every server thread opens its catalog
    const std::string& arn = images[random.below(images.size())];
    check_get_image(client.get("/GetImage", "imageBuildVersionArn", arn), arn);
  }
  // The three are timed in turn, request after request, so that they see the same machine.
  std::vector<double> http_ms, http_tail_ms, direct_ms, verify_ms;
  api::sigv4::HttpRequest signed_request;
  signed_request.method = "GET";
  signed_request.headers.push_back({"Host", fmt::format("127.0.0.1:{}", port)});
  const std::map<std::string, std::string> credentials = {{kAccessKey, kSecret}};
  api::sigv4::VerifyOptions verify_options;
  verify_options.region = "local";
  long connections_before = client.connections();
  for (int i = 0; i < options.requests; ++i) {
    const std::string& arn = images[random.below(images.size())];
    Client::Response response = client.get("/GetImage", "imageBuildVersionArn", arn);
    http_ms.push_back(response.ms);
    http_tail_ms.push_back(response.after_first_byte_ms);
    check_get_image(response, arn);

    // api::handle: the catalog read and the response, serialized as the server sends it.
    SteadyClock::time_point start = SteadyClock::now();
    api::Reply reply = api::handle(
        get_image, Json{{"imageBuildVersionArn", arn}}, catalog, backend, make_uuid_v4());
    std::string text = reply.body.dump();
    direct_ms.push_back(ms_between(start, SteadyClock::now()));
    if (reply.status != 200 || reply.body["image"].value("arn", "") != arn || text.empty()) {
      wrong(fmt::format("api::handle GetImage {}: {} {}", arn, reply.status, reply.error_type));
    }

    // sigv4::verify of a signed GetImage (the server's signature check alone).
    signed_request.target = "/GetImage?imageBuildVersionArn=" + api::sigv4::uri_encode(arn, false);
    signed_request.headers.resize(1);
    SystemTime now = clock.now();
    api::sigv4::sign(signed_request, kAccessKey, kSecret, "local", "imagebuilder", now);
    start = SteadyClock::now();
    api::sigv4::Verification verified =
        api::sigv4::verify(signed_request, credentials, verify_options, now);
    verify_ms.push_back(ms_between(start, SteadyClock::now()));
    if (!verified.ok) {
      wrong(fmt::format("api::sigv4::verify: {} {}", verified.error_type, verified.message));
    }
  }
  long get_connections = client.connections() - connections_before;
  Stats http = summarize(http_ms);
  Stats http_tail = summarize(http_tail_ms);
  Stats direct = summarize(direct_ms);
  Stats verify = summarize(verify_ms);

  // --- Refused: no signature, a wrong signature --------------------------------------------
  const int refused_requests = std::max(100, options.requests / 4);
  std::vector<double> unsigned_ms, unsigned_tail_ms, bad_ms;
  {
    Client anonymous(port, nullptr);
    Client impostor(port, "not-the-secret");
    for (int i = 0; i < refused_requests; ++i) {
      const std::string& arn = images[random.below(images.size())];
      Client::Response response = anonymous.get("/GetImage", "imageBuildVersionArn", arn);
      unsigned_ms.push_back(response.ms);
      unsigned_tail_ms.push_back(response.after_first_byte_ms);
      if (response.status != 403 || response.error_type != "MissingAuthenticationTokenException") {
        wrong(fmt::format("unsigned GetImage: HTTP {} {}", response.status, response.error_type));
      }
      response = impostor.get("/GetImage", "imageBuildVersionArn", arn);
      bad_ms.push_back(response.ms);
      if (response.status != 403 || response.error_type != "InvalidSignatureException") {
        wrong(fmt::format(
            "wrongly signed GetImage: HTTP {} {}", response.status, response.error_type));
      }
    }
  }
  Stats unsigned_stats = summarize(unsigned_ms);
  Stats unsigned_tail = summarize(unsigned_tail_ms);
  Stats bad_signature = summarize(bad_ms);

  // --- ListImages: the first page ----------------------------------------------------------
  const int list_requests = std::max(50, options.requests / 10);
  std::vector<double> list_ms;
  size_t list_items = 0;
  const std::string list_body = Json{{"maxResults", 25}}.dump();
  for (int i = 0; i < list_requests; ++i) {
    Client::Response response = client.post("/ListImages", list_body);
    list_ms.push_back(response.ms);
    Json body = Json::parse(response.body, nullptr, false);
    // One recipe version: its newest build is the one ImageVersion.
    if (response.status != 200 || body.is_discarded() || !body["imageVersionList"].is_array() ||
        body["imageVersionList"].size() != 1 ||
        body["imageVersionList"][0].value("arn", "") != version_arn) {
      wrong(fmt::format("ListImages: HTTP {}: {}", response.status, response.body.substr(0, 200)));
      continue;
    }
    list_items = body["imageVersionList"].size();
  }
  Stats list_images = summarize(list_ms);

  // --- ListImageBuildVersions: every build of the version, page after page -------------------
  std::vector<double> page_ms, walk_ms;
  size_t pages_per_walk = 0;
  for (int walk = 0; walk < options.walks; ++walk) {
    std::string token;
    std::vector<std::string> seen;
    size_t pages = 0;
    double walk_total = 0;
    while (true) {
      Json request = {{"imageVersionArn", version_arn}, {"maxResults", 25}};
      if (!token.empty()) {
        request["nextToken"] = token;
      }
      Client::Response response = client.post("/ListImageBuildVersions", request.dump());
      page_ms.push_back(response.ms);
      walk_total += response.ms;
      ++pages;
      Json body = Json::parse(response.body, nullptr, false);
      if (response.status != 200 || body.is_discarded() || !body["imageSummaryList"].is_array() ||
          body["imageSummaryList"].size() > 25) {
        wrong(fmt::format(
            "ListImageBuildVersions: HTTP {}: {}", response.status, response.body.substr(0, 200)));
        break;
      }
      for (const Json& summary : body["imageSummaryList"]) {
        seen.push_back(summary.value("arn", ""));
      }
      token = body.value("nextToken", "");
      if (token.empty() || pages > images.size()) {
        break;
      }
    }
    walk_ms.push_back(walk_total);
    pages_per_walk = pages;
    // Every build once, newest first.
    std::vector<std::string> expected(images.rbegin(), images.rend());
    if (seen != expected) {
      wrong(
          fmt::format("ListImageBuildVersions: a walk of {} pages gave {} ARNs, not the {} "
                      "builds newest first",
                      pages,
                      seen.size(),
                      images.size()));
    }
  }
  Stats page = summarize(page_ms);
  Stats walk = summarize(walk_ms);

  // --- Throughput: GetImage from 1, 2 and 4 client threads ----------------------------------
  struct Throughput {
    int threads = 0;
    uint64_t requests = 0;
    double seconds = 0;
    double cpu_ms = 0;
    long connections = 0;
    Stats latency;
  };
  std::vector<Throughput> throughput;
  for (int threads : {1, 2, 4}) {
    std::vector<std::unique_ptr<Client>> clients;
    for (int t = 0; t < threads; ++t) {
      clients.push_back(std::make_unique<Client>(port, kSecret));
      check_get_image(clients.back()->get("/GetImage", "imageBuildVersionArn", images[0]),
                      images[0]);
    }
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};
    std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
    std::vector<long> connections(static_cast<size_t>(threads), 0);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Client& own = *clients[static_cast<size_t>(t)];
        Random own_random(0x2545f4914f6cdd1dULL + static_cast<uint64_t>(t));
        long before = own.connections();
        while (!go) {
          std::this_thread::yield();
        }
        while (!stop) {
          const std::string& arn = images[own_random.below(images.size())];
          Client::Response response = own.get("/GetImage", "imageBuildVersionArn", arn);
          latencies[static_cast<size_t>(t)].push_back(response.ms);
          if (!quick_check_get_image(response, arn)) {
            wrong(fmt::format("GetImage {} ({} threads): HTTP {} {}",
                              arn,
                              threads,
                              response.status,
                              response.error_type));
          }
        }
        connections[static_cast<size_t>(t)] = own.connections() - before;
      });
    }
    double cpu_start = cpu_ms();
    SteadyClock::time_point start = SteadyClock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
    stop = true;
    for (std::thread& worker : workers) {
      worker.join();
    }
    Throughput result;
    result.threads = threads;
    result.seconds = ms_between(start, SteadyClock::now()) / 1e3;
    result.cpu_ms = cpu_ms() - cpu_start;
    std::vector<double> all;
    for (size_t t = 0; t < latencies.size(); ++t) {
      result.requests += latencies[t].size();
      result.connections += connections[t];
      all.insert(all.end(), latencies[t].begin(), latencies[t].end());
    }
    result.latency = summarize(std::move(all));
    throughput.push_back(result);
  }

  server.stop();
  serving.join();
  std::string load_after = load_average();

  // --- Report ------------------------------------------------------------------------------
  fmt::print("{:<34} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
             "latency (ms)",
             "n",
             "p50",
             "p90",
             "p99",
             "max",
             "mean");
  print_row("GetImage, HTTP + SigV4", http, fmt::format("{} connections", get_connections));
  print_row("  of which first byte to last", http_tail, "headers, then body");
  print_row("GetImage, api::handle directly", direct, "no HTTP, no signature");
  print_row("sigv4::verify alone", verify, "the server's signature check");
  print_row("GetImage unsigned -> 403", unsigned_stats, "MissingAuthenticationToken");
  print_row("  of which first byte to last", unsigned_tail, "headers, then body");
  print_row("GetImage wrong signature -> 403", bad_signature, "InvalidSignature");
  print_row("ListImages, first page (25)", list_images, fmt::format("{} ImageVersion", list_items));
  print_row("ListImageBuildVersions, per page", page, "25 builds a page");
  print_row(fmt::format("ListImageBuildVersions, walk"),
            walk,
            fmt::format("{} pages, {} builds", pages_per_walk, images.size()));
  fmt::print("\nHTTP + SigV4 cost per GetImage (p50): {:.3f} ms ({:.1f}x api::handle)\n",
             http.p50 - direct.p50,
             direct.p50 > 0 ? http.p50 / direct.p50 : 0.0);

  fmt::print("\n{:<34} {:>10} {:>10} {:>12} {:>9} {:>9} {:>11}\n",
             "GetImage throughput",
             "requests",
             "req/s",
             "CPU ms/req",
             "p50 ms",
             "p99 ms",
             "connections");
  Json throughput_json = Json::array();
  for (const Throughput& result : throughput) {
    double per_second = static_cast<double>(result.requests) / result.seconds;
    double cpu_per_request =
        result.requests > 0 ? result.cpu_ms / static_cast<double>(result.requests) : 0.0;
    fmt::print("{:<34} {:>10} {:>10.0f} {:>12.3f} {:>9.3f} {:>9.3f} {:>11}\n",
               fmt::format("{} client thread{}", result.threads, result.threads > 1 ? "s" : ""),
               result.requests,
               per_second,
               cpu_per_request,
               result.latency.p50,
               result.latency.p99,
               result.connections);
    throughput_json.push_back({{"threads", result.threads},
                               {"requests", result.requests},
                               {"seconds", std::round(result.seconds * 1000) / 1000},
                               {"requests_per_s", std::round(per_second * 10) / 10},
                               {"cpu_ms_per_request", std::round(cpu_per_request * 1000) / 1000},
                               {"connections", result.connections},
                               {"latency", stats_json(result.latency)}});
  }
  fmt::print(
      "(CPU: this process, clients and server together; connections: new TCP connections "
      "the clients opened)\n");
  fmt::print("\nload average before {}, after {}\n", load_before, load_after);
  if (wrong_answers > 0) {
    fmt::print("WRONG ANSWERS: {}\n", wrong_answers.load());
  }

  Json line = {{"bench", "api"},
               {"date", date},
               {"images", options.images},
               {"cpus", std::thread::hardware_concurrency()},
               {"load_average_before", load_before},
               {"load_average_after", load_after},
               {"temp_file_system", file_system_name(temp->path())},
               {"seed",
                {{"total_ms", std::round(seed_total_ms * 10) / 10},
                 {"cpu_ms", std::round(seed_cpu_ms * 10) / 10},
                 {"per_image", stats_json(seed)}}},
               {"get_image", stats_json(http)},
               {"get_image_connections", get_connections},
               {"get_image_first_to_last_byte", stats_json(http_tail)},
               {"get_image_direct", stats_json(direct)},
               {"sigv4_verify", stats_json(verify)},
               {"unsigned_403", stats_json(unsigned_stats)},
               {"unsigned_403_first_to_last_byte", stats_json(unsigned_tail)},
               {"bad_signature_403", stats_json(bad_signature)},
               {"list_images_first_page", stats_json(list_images)},
               {"list_image_build_versions_page", stats_json(page)},
               {"list_image_build_versions_walk", stats_json(walk)},
               {"pages_per_walk", pages_per_walk},
               {"throughput", throughput_json},
               {"wrong_answers", wrong_answers.load()}};
  fmt::print("{}\n", line.dump());
  curl_global_cleanup();
  return wrong_answers > 0 ? 1 : 0;
}
