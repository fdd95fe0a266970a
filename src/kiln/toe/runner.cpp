#include "kiln/toe/runner.hpp"

#include <filesystem>

#include "kiln/base/file.hpp"
#include "kiln/base/hash.hpp"
#include "kiln/base/log.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/document/parser.hpp"
#include "kiln/toe/aws_config.hpp"
#include "kiln/toe/document_run.hpp"
#include "kiln/toe/s3_client.hpp"
#include "kiln/toe/state.hpp"

namespace kiln::toe {
namespace fs = std::filesystem;

namespace {

std::string fingerprint(const std::vector<document::Document>& documents,
                        const RunOptions& options) {
  std::string material;
  for (const document::Document& d : documents) {
    material += d.path + '\0' + d.text + '\0';
  }
  material += join(options.phases, ",") + '\0';
  for (const auto& [name, value] : options.parameters) {
    material += name + '=' + value + '\0';
  }
  for (const DocumentSource& s : options.documents) {
    for (const auto& [name, value] : s.parameters) {
      material += s.path + ':' + name + '=' + value + '\0';
    }
  }
  return hash_hex(HashAlgorithm::kSha256, material);
}

// Every document's source, as the run's document.yaml artifact.
std::string document_artifact(const std::vector<document::Document>& documents) {
  if (documents.size() == 1) {
    return documents[0].text;
  }
  std::string out;
  for (const document::Document& d : documents) {
    out += fmt::format("# {}\n---\n{}\n", d.path, d.text);
  }
  return out;
}

ParameterList parameters_for(const RunOptions& options, const DocumentSource& source) {
  ParameterList all = options.parameters;
  all.insert(all.end(), source.parameters.begin(), source.parameters.end());
  return all;
}

void collect_chains(const Json& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    for (const auto& part : document::parse_template(value.get<std::string>())) {
      using K = document::Reference::Kind;
      if (part.is_reference &&
          (part.reference.kind == K::kChainInput || part.reference.kind == K::kChainOutput)) {
        out.push_back(part.reference.text);
      }
    }
  } else if (value.is_structured()) {
    for (const Json& item : value) {
      collect_chains(item, out);
    }
  }
}

struct RunState {
  fs::path log_folder;
  std::optional<SavedState> saved;
};

}  // namespace

int exit_code_for(RunStatus status) {
  switch (status) {
    case RunStatus::kSuccess:
    case RunStatus::kSuccessWithIgnoredFailure:
    case RunStatus::kSkipped:
    case RunStatus::kIgnoredFailure:
      return kExitSuccess;
    case RunStatus::kRebootRequested:
      return kExitReboot;
    case RunStatus::kCancelled:
      return kExitCancelled;
    case RunStatus::kFailed:
      break;
  }
  return kExitFailed;
}

namespace {

// Downloads an s3:// document into memory (through a temporary file).
Result<std::string> fetch_s3_document(const std::string& uri, const EnvLookup& env) {
  S3Uri object = KILN_TRY(parse_s3_uri(uri));
  S3Client client(KILN_TRY(load_s3_config(env)));
  TempDir dir = KILN_TRY(TempDir::create("kiln-toe-doc-"));
  KILN_TRY(client.get_object(object, dir.path() / "document.yaml", {}));
  return read_file(dir.path() / "document.yaml");
}

document::ParseResult parse_source(const DocumentSource& source, const EnvLookup& env) {
  if (!starts_with(source.path, "s3://")) {
    return document::parse_document_file(source.path);
  }
  Result<std::string> text = fetch_s3_document(source.path, env);
  if (!text) {
    document::ParseResult failed;
    failed.diagnostics.push_back({source.path, {}, text.error().message});
    return failed;
  }
  return document::parse_document(*text, source.path);
}

// Uploads every file of the log folder to s3://bucket/prefix/<folder name>/.
Result<std::string> upload_logs(const fs::path& folder,
                                const RunOptions& options,
                                const EnvLookup& env) {
  S3Client client(KILN_TRY(load_s3_config(env)));
  std::string prefix = options.log_s3_prefix;
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  std::string base = (prefix.empty() ? "" : prefix + "/") + folder.filename().string();
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    S3Uri object{options.log_s3_bucket, base + "/" + entry.path().filename().string()};
    KILN_TRY(client.put_object(object, entry.path(), {}));
  }
  if (ec) {
    return make_error(ErrorCode::kIo, "listing {}: {}", folder.string(), ec.message());
  }
  return S3Uri{options.log_s3_bucket, base}.to_string();
}

}  // namespace

Result<std::vector<document::Document>> load_documents(const std::vector<DocumentSource>& sources,
                                                       const EnvLookup& env) {
  std::vector<document::Document> documents;
  std::vector<std::string> problems;
  for (const DocumentSource& source : sources) {
    if (starts_with(source.path, "arn:")) {
      problems.push_back(fmt::format(
          "{}: component ARNs are resolved by kiln's catalog; give kiln-toe the document's file",
          source.path));
      continue;
    }
    document::ParseResult parsed = parse_source(source, env);
    for (const document::Diagnostic& d : parsed.diagnostics) {
      problems.push_back(document::format_diagnostic(d));
    }
    if (parsed.document) {
      documents.push_back(std::move(*parsed.document));
    }
  }
  if (!problems.empty()) {
    return Error{ErrorCode::kInvalidArgument, join(problems, "\n")};
  }
  return documents;
}

Json chaining_report(const std::vector<document::Document>& documents) {
  Json out = Json::array();
  for (const document::Document& d : documents) {
    for (const document::Phase& p : d.phases) {
      for (const document::Step& s : p.steps) {
        std::vector<std::string> chains;
        collect_chains(s.inputs, chains);
        if (!chains.empty()) {
          out.push_back(Json{
              {"document", d.path}, {"phase", p.name}, {"step", s.name}, {"expressions", chains}});
        }
      }
    }
  }
  return out;
}

Runner::Runner(const Clock& clock,
               const document::Probe& probe,
               EnvLookup env,
               const std::atomic<bool>* cancel)
    : clock_(clock), probe_(probe), env_(std::move(env)), cancel_(cancel) {}

Result<RunResult> Runner::run(const RunOptions& options) {
  std::vector<document::Document> documents = KILN_TRY(load_documents(options.documents, env_));
  std::vector<std::map<std::string, std::string>> variables;
  for (size_t i = 0; i < documents.size(); ++i) {
    variables.push_back(
        KILN_TRY(document_variables(documents[i], parameters_for(options, options.documents[i]))));
  }
  fs::path state_dir = options.state_directory.empty() ? options.log_directory / ".kiln-toe-state"
                                                       : options.state_directory;
  std::string print = fingerprint(documents, options);
  std::optional<SavedState> saved = KILN_TRY(load_state(state_dir));
  if (saved && saved->fingerprint != print) {
    return make_error(ErrorCode::kConflict,
                      "state directory {} holds an interrupted run (execution {}) of other "
                      "documents, phases or parameters: run that again to resume it, or remove "
                      "{}/kiln-toe-state.json to start afresh",
                      state_dir.string(),
                      saved->run.execution_id,
                      state_dir.string());
  }

  RunResult run;
  if (saved) {
    run = saved->run;
  } else {
    run.execution_id = options.execution_id.empty() ? make_uuid_v4() : options.execution_id;
    run.start_time = clock_.now();
  }
  fs::path folder =
      saved ? fs::path(saved->log_folder)
            : options.log_directory / RunLog::folder_name(run.start_time, run.execution_id);
  RunLog log = KILN_TRY(RunLog::open(folder, clock_));
  log.set_echo(options.trace ? RunLog::Echo::kAll : options.echo);
  run.log_url = folder.string();
  if (!saved) {
    KILN_TRY(write_file(folder / "document.yaml", document_artifact(documents), 0600));
  }
  log.app(saved ? fmt::format("resuming execution {} after a reboot", run.execution_id)
                : fmt::format("execution {}: {} document(s)", run.execution_id, documents.size()));
  for (const std::string& w : options.warnings) {
    log.app("warning: " + w);
  }

  // One private scratch folder for the whole run, not one per step: creating and removing a
  // folder per step cost more than the step itself (bench/README.md).
  Result<TempDir> scratch = TempDir::create("kiln-toe-run-");
  RunEnvironment environment{&clock_,
                             &probe_,
                             env_,
                             cancel_,
                             &log,
                             run.execution_id,
                             scratch ? scratch->path() : fs::path()};
  size_t first = saved && !run.documents.empty() ? run.documents.size() - 1 : 0;
  std::vector<DocumentResult> results(run.documents.begin(),
                                      run.documents.begin() + static_cast<long>(first));
  SavedState next;
  for (size_t i = first; i < documents.size(); ++i) {
    std::error_code ec;
    std::string canonical = fs::weakly_canonical(documents[i].path, ec).string();
    DocumentRun doc_run(documents[i], variables[i], options.phases, environment, 0, {canonical});
    ResumePoint resume;
    bool resuming = saved && i == first && !run.documents.empty();
    if (resuming) {
      resume.partial = run.documents.back();
      resume.condition_branch = saved->condition_branch;
      resume.reboot_count = saved->reboot_count;
    }
    results.push_back(doc_run.run(resuming ? &resume : nullptr));
    if (results.back().status == RunStatus::kRebootRequested) {
      next.condition_branch = doc_run.pending_condition();
      next.reboot_count = doc_run.pending_reboot_count();
    }
    if (results.back().status != RunStatus::kSuccess &&
        results.back().status != RunStatus::kSuccessWithIgnoredFailure) {
      break;
    }
  }
  run.documents = std::move(results);
  std::vector<RunStatus> statuses;
  for (const DocumentResult& d : run.documents) {
    statuses.push_back(d.status);
    if (run.failure_message.empty() && is_failure(d.status)) {
      run.failure_message = fmt::format("Document {} failed! {}", d.file_path, d.failure_message);
    }
  }
  run.status = combine_statuses(statuses);
  run.end_time = clock_.now();

  if (run.status == RunStatus::kRebootRequested) {
    next.fingerprint = print;
    next.log_folder = folder.string();
    next.run = run;
    KILN_TRY(save_state(state_dir, next));
    log.app("a step asked for a reboot: state saved; run the same command again to resume");
  } else {
    KILN_TRY(clear_state(state_dir));
  }
  KILN_TRY(
      write_file(folder / "detailedoutput.json", json_text(detailed_output(run), 2) + "\n", 0600));
  KILN_TRY(
      write_file(folder / "chaining.json", json_text(chaining_report(documents), 2) + "\n", 0600));
  log.app(fmt::format("execution {} finished: {}", run.execution_id, status_name(run.status)));
  if (!options.log_s3_bucket.empty()) {
    // A failed upload never fails the run: the local logs stay, and the summary says where.
    Result<std::string> url = upload_logs(folder, options, env_);
    if (url) {
      run.log_url = *url;
    } else {
      log.app("uploading the logs failed: " + url.error().message);
      KILN_LOG(kWarning,
               "uploading the logs to s3://{} failed: {}",
               options.log_s3_bucket,
               url.error().message);
    }
  }
  return run;
}

}  // namespace kiln::toe
