// libFuzzer harness for what an API key holder sends once past the signature: a request's
// operation, query string and JSON body, through the transport-independent part of the server
// (api/handlers.cpp: parse_request, handle) and the catalog's request checks (state/request.cpp
// and the resource modules) over a real catalog in a temporary folder. The input is
//
//   OperationName                 (a line: "CreateComponent", "ListImages", ...)
//   raw query string              (a line, still percent-encoded)
//   body                          (the rest)
//
// Checks that nothing throws past parse_request or handle (the JSON library's exceptions
// included); that every reply is either a 200 without an error type or an error with AWS's
// error type, a status of 400 or more but never 500 (a client's input is never a server fault)
// and a message; that no message carries the JSON library's own text; and that every reply
// body serializes as the server sends it (strict UTF-8).
//
// Build and run: see fuzz/README.md.
//   ./api_request_fuzz -max_total_time=60 fuzz/corpus/api_request

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "kiln/api/backend.hpp"
#include "kiln/api/handlers.hpp"
#include "kiln/api/operations.hpp"
#include "kiln/base/file.hpp"
#include "kiln/state/catalog.hpp"

namespace {

namespace api = kiln::api;
namespace fs = std::filesystem;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(
      stderr, "api_request_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

class FixedClock final : public kiln::Clock {
 public:
  kiln::SystemTime now() const override {
    return kiln::SystemTime(std::chrono::milliseconds(1580157810306));
  }
};

// Builds nothing: an image is an ARN, a cancel succeeds.
class NullBackend final : public api::Backend {
 public:
  kiln::Result<std::string> create_image(const api::Json&) override {
    return std::string("arn:aws:imagebuilder:local:000000000000:image/fuzz/1.0.0/1");
  }
  kiln::Result<std::string> start_pipeline_execution(const std::string&) override {
    return std::string("arn:aws:imagebuilder:local:000000000000:image/fuzz/1.0.0/2");
  }
  kiln::Status cancel_image(const std::string&) override { return {}; }
  void pipelines_changed() override {}
  std::string metrics() override { return ""; }
};

struct World {
  kiln::TempDir dir;
  FixedClock clock;
  std::unique_ptr<kiln::state::Catalog> catalog;
  NullBackend backend;
};

World& world() {
  static World* w = [] {
    fs::path parent = access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::path();
    auto dir = kiln::TempDir::create("kiln-api-fuzz-", parent);
    if (!dir.ok()) {
      fail("cannot make a scratch folder", dir.error().message);
    }
    auto* made = new World{std::move(dir).value(), {}, nullptr, {}};
    auto catalog = kiln::state::Catalog::open(made->dir.path() / "state.db", {}, made->clock);
    if (!catalog.ok()) {
      fail("cannot open a catalog", catalog.error().message);
    }
    made->catalog = std::move(catalog).value();
    return made;
  }();
  return *w;
}

std::string_view next_line(std::string_view& text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

void check_reply(const api::Reply& reply, std::string_view input) {
  std::string body;
  try {
    body = reply.body.dump();  // as the server sends it
  } catch (const std::exception& e) {
    fail("a reply body that does not serialize", std::string(e.what()) + "\n" + std::string(input));
  }
  if (reply.status == 200) {
    if (!reply.error_type.empty() || !reply.body.is_object()) {
      fail("a 200 with an error type or without an object", body);
    }
    return;
  }
  if (reply.status < 400 || reply.status > 599 || reply.error_type.empty()) {
    fail("an error reply without an error status or type", body);
  }
  if (reply.status == 500) {
    fail("a client's request gave a server error (500)", body + "\n" + std::string(input));
  }
  auto message = reply.body.find("message");
  if (message == reply.body.end() || !message->is_string() || message->get<std::string>().empty()) {
    fail("an error reply without a message", body);
  }
  if (message->get<std::string>().find("[json.exception") != std::string::npos &&
      input.find("[json.exception") == std::string_view::npos) {
    fail("the JSON library's text reached a client", body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view rest = input;
  std::string_view name = next_line(rest);
  std::string_view query = next_line(rest);
  const api::Operation* op = api::find_operation_named(name);
  if (op == nullptr) {
    return 0;
  }
  if (api::find_operation(op->method, op->path) != op) {
    fail("find_operation does not find an operation by its method and path", name);
  }
  World& w = world();
  try {
    api::ParsedRequest parsed = api::parse_request(*op, query, rest);
    if (!parsed.ok) {
      check_reply(api::error_reply(parsed.error), input);
      return 0;
    }
    if (!parsed.members.is_object()) {
      fail("parse_request accepted members that are not an object", input);
    }
    check_reply(api::handle(*op, parsed.members, *w.catalog, w.backend, "fuzz-request"), input);
  } catch (const std::exception& e) {
    fail("an exception escaped the handler", std::string(e.what()) + "\n" + std::string(input));
  }
  return 0;
}
