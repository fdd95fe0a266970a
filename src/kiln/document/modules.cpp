#include "kiln/document/modules.hpp"

#include <algorithm>
#include <array>

#include "kiln/base/text_encoding.hpp"

namespace kiln::document {
namespace {

using F = FieldSpec;
using T = FieldType;

constexpr std::string_view kNoOutputs[] = {""};
constexpr std::span<const std::string_view> none() {
  return {kNoOutputs, 0};
}

constexpr std::string_view kStdout[] = {"stdout"};
constexpr std::string_view kDestination[] = {"destination"};
constexpr std::string_view kFiles[] = {"files"};
constexpr std::string_view kContent[] = {"content"};
constexpr std::string_view kDocumentOutputs[] = {"executedStepCount",
                                                 "executionId",
                                                 "failedStepCount",
                                                 "failureMessage",
                                                 "ignoredFailedStepCount",
                                                 "logUrl",
                                                 "status"};
constexpr std::string_view kMsiOutputs[] = {"logFile", "msiExitCode", "stdout"};

constexpr F kExecuteBash[] = {{"commands", T::kStringOrList, true}};
constexpr F kExecuteBinary[] = {{"path", T::kString, true}, {"arguments", T::kStringList}};
constexpr F kExecutePowerShell[] = {{"commands", T::kStringOrList}, {"file", T::kString}};
constexpr F kExecuteDocument[] = {{"document", T::kString, true},
                                  {"document-s3-bucket-owner", T::kString},
                                  {"phases", T::kString},
                                  {"parameters", T::kParameterList}};
constexpr F kAppendFile[] = {
    {"path", T::kString, true}, {"content", T::kString}, {"encoding", T::kString}};
constexpr F kCopy[] = {
    {"source", T::kString, true}, {"destination", T::kString, true}, {"overwrite", T::kBool}};
constexpr F kCreateFile[] = {{"path", T::kString, true},
                             {"content", T::kString},
                             {"encoding", T::kString},
                             {"owner", T::kString},
                             {"group", T::kString},
                             {"permissions", T::kString},
                             {"overwrite", T::kBool}};
constexpr F kCreateFolder[] = {{"path", T::kString, true},
                               {"owner", T::kString},
                               {"group", T::kString},
                               {"permissions", T::kString},
                               {"overwrite", T::kBool}};
constexpr F kCreateSymlink[] = {
    {"path", T::kString, true}, {"target", T::kString, true}, {"force", T::kBool}};
constexpr F kDeleteFile[] = {{"path", T::kString, true}};
constexpr F kDeleteFolder[] = {{"path", T::kString, true}, {"force", T::kBool}};
constexpr F kListFiles[] = {
    {"path", T::kString, true}, {"fileNamePattern", T::kString}, {"recursive", T::kBool}};
constexpr F kReadFile[] = {
    {"path", T::kString, true}, {"encoding", T::kString}, {"printFileContent", T::kBool}};
constexpr F kSetFileEncoding[] = {{"path", T::kString, true}, {"encoding", T::kString}};
constexpr F kSetFileOwner[] = {
    {"path", T::kString, true}, {"owner", T::kString, true}, {"group", T::kString}};
constexpr F kSetFolderOwner[] = {{"path", T::kString, true},
                                 {"owner", T::kString, true},
                                 {"group", T::kString},
                                 {"recursive", T::kBool}};
constexpr F kSetFilePermissions[] = {{"path", T::kString, true}, {"permissions", T::kString, true}};
constexpr F kSetFolderPermissions[] = {
    {"path", T::kString, true}, {"permissions", T::kString, true}, {"recursive", T::kBool}};
constexpr F kS3Download[] = {{"source", T::kString, true},
                             {"destination", T::kString, true},
                             {"expectedBucketOwner", T::kString},
                             {"overwrite", T::kBool}};
constexpr F kS3Upload[] = {{"source", T::kString, true},
                           {"destination", T::kString, true},
                           {"recurse", T::kBool},
                           {"expectedBucketOwner", T::kString}};
constexpr F kWebDownload[] = {{"source", T::kString, true},
                              {"destination", T::kString, true},
                              {"overwrite", T::kBool},
                              {"checksum", T::kString},
                              {"algorithm", T::kString},
                              {"ignoreCertificateErrors", T::kBool}};
constexpr F kUpdateOS[] = {{"include", T::kStringList}, {"exclude", T::kStringList}};
constexpr F kReboot[] = {{"delaySeconds", T::kInt}};
constexpr F kMsi[] = {{"path", T::kString, true},
                      {"reboot", T::kString},
                      {"logOptions", T::kString},
                      {"logFile", T::kString},
                      {"properties", T::kStringMap},
                      {"ignoreAuthenticodeSignatureErrors", T::kBool},
                      {"allowUnsignedInstaller", T::kBool}};
constexpr F kSetRegistry[] = {{"path", T::kString, true},
                              {"name", T::kString, true},
                              {"value", T::kString},
                              {"type", T::kString, true}};
constexpr F kNoFields[] = {{"", T::kString}};

using S = InputShape;
using P = ModulePlatform;

// Alphabetical, so lookups can binary-search.
constexpr ModuleSpec kModules[] = {
    {"AppendFile", S::kList, kAppendFile, none()},
    {"Assert", S::kExpression, {kNoFields, 0}, none()},
    {"CopyFile", S::kList, kCopy, none()},
    {"CopyFolder", S::kList, kCopy, none()},
    {"CreateFile", S::kList, kCreateFile, none()},
    {"CreateFolder", S::kList, kCreateFolder, none()},
    {"CreateSymlink", S::kList, kCreateSymlink, none()},
    {"DeleteFile", S::kList, kDeleteFile, none()},
    {"DeleteFolder", S::kList, kDeleteFolder, none()},
    {"ExecuteBash", S::kObject, kExecuteBash, kStdout},
    {"ExecuteBinary", S::kObject, kExecuteBinary, kStdout},
    {"ExecuteDocument", S::kObject, kExecuteDocument, kDocumentOutputs},
    {"ExecutePowerShell", S::kObject, kExecutePowerShell, kStdout, P::kWindowsOnly},
    {"InstallMSI", S::kObject, kMsi, kMsiOutputs, P::kWindowsOnly},
    {"ListFiles", S::kList, kListFiles, kFiles},
    {"MoveFile", S::kList, kCopy, none()},
    {"MoveFolder", S::kList, kCopy, none()},
    {"ReadFile", S::kObject, kReadFile, kContent},
    {"Reboot", S::kObject, kReboot, none(), P::kLinux, true},
    {"S3Download", S::kList, kS3Download, none()},
    {"S3Upload", S::kList, kS3Upload, none()},
    {"SetFileEncoding", S::kList, kSetFileEncoding, none()},
    {"SetFileOwner", S::kList, kSetFileOwner, none()},
    {"SetFilePermissions", S::kList, kSetFilePermissions, none()},
    {"SetFolderOwner", S::kList, kSetFolderOwner, none()},
    {"SetFolderPermissions", S::kList, kSetFolderPermissions, none()},
    {"SetRegistry", S::kList, kSetRegistry, none(), P::kWindowsOnly},
    {"UninstallMSI", S::kObject, kMsi, kMsiOutputs, P::kWindowsOnly},
    {"UpdateOS", S::kObject, kUpdateOS, none(), P::kLinux, true},
    {"WebDownload", S::kList, kWebDownload, kDestination},
};

}  // namespace

const ModuleSpec* find_module(std::string_view name) {
  auto it = std::lower_bound(
      std::begin(kModules), std::end(kModules), name, [](const ModuleSpec& m, std::string_view n) {
        return m.name < n;
      });
  return (it != std::end(kModules) && it->name == name) ? &*it : nullptr;
}

std::span<const ModuleSpec> all_modules() {
  return kModules;
}

const FieldSpec* find_field(const ModuleSpec& module, std::string_view name) {
  for (const FieldSpec& f : module.fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

bool is_known_encoding(std::string_view name) {
  return find_text_encoding(name) != nullptr;
}

bool is_octal_permissions(std::string_view text) {
  return (text.size() == 3 || text.size() == 4) &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
}

}  // namespace kiln::document
