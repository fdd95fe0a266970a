// The file-system action modules (AppendFile ... SetFolderPermissions).
//
// Each list module runs its input items in order and stops at the first failure, reporting it as
// "<Module> inputs[<i>]: <what failed>: <OS error>". Nothing here throws: std::filesystem is used
// through its std::error_code overloads. A cancelled or timed-out step stops between items and
// between the entries of a folder walk or copy.
//
// Decisions where AWS's documentation is silent:
//  - Paths and wildcards are read as file_paths.hpp says; a trailing '/' on a `path` input is
//    ignored. CreateSymlink makes a relative link path absolute.
//  - Wildcards: '*' in the last component of the `source` of CopyFile and MoveFile and the `path`
//    of DeleteFile. A missing literal path is an error too (DeleteFile included: a typo should
//    show).
//  - Destinations of CopyFile/MoveFile: a trailing '/', an existing folder or a wildcard source
//    means "into that folder, keeping the name" (like cp and mv); missing parent folders are
//    created. overwrite=false refuses an existing destination file; no file is ever replaced by a
//    folder or a folder by a file.
//  - CopyFolder/MoveFolder: a trailing '/' on the destination means "into it, keeping the name";
//    otherwise the destination is the folder's new path. An existing destination folder is merged
//    (files replaced, other content kept), so running the step twice gives the same result.
//    overwrite=false refuses, before anything is copied, when any file would be replaced.
//    Symlinks inside the tree are copied as symlinks; devices, FIFOs and sockets are refused. A
//    destination inside the source (or equal to it) is refused.
//    MoveFolder renames when it can, else copies and then removes the source.
//  - MoveFile moves a symlink itself, not its target; across file systems it copies then removes.
//  - CreateFile: explicit permissions are applied exactly (chmod, not subject to umask);
//    overwrite=false refuses an existing file; an overwritten file keeps its mode unless
//    permissions are given. Owner without group uses the owner's primary group (as SetFileOwner).
//  - CreateFolder: missing parents get the default mode; permissions/owner apply to the last
//    folder only (like mkdir -p -m). An existing folder is kept as is (its content is never
//    removed) and gets the given owner/permissions; with overwrite=false it is refused.
//  - CreateSymlink: a relative target is stored as written and must exist relative to the link's
//    folder. force replaces a file or symlink (atomically, via rename) but never a folder.
//    Missing parent folders of the link are created.
//  - DeleteFile refuses folders; it removes a symlink, never its target. DeleteFolder refuses a
//    symlink, a file and "/".
//  - ListFiles lists non-folders (symlinks to files included), matches fileNamePattern against the
//    file name, never descends into symlinked folders, and sorts the paths. With several input
//    items, `files` joins all of them. (A comma in a file name is ambiguous: AWS's format.)
//  - AppendFile, ReadFile, SetFileEncoding and SetFile* need an existing regular file (after
//    following symlinks).
//  - Encodings are those of base/text_encoding.hpp: utf16/utf32 without a byte order in the name
//    get a byte-order mark, so readers that assume big-endian for unmarked text decode them right.
//    AppendFile writes the mark only into an empty file. Invalid UTF-8 content, or text that does
//    not decode, is an error: outputs must be valid UTF-8 JSON. SetFileEncoding to utf8 validates
//    and drops a UTF-8 mark.
//  - SetFileEncoding rewrites through a temporary file and rename (never a half-written file),
//    keeping the file's mode and owner.
//  - Owners, groups and permissions are read as file_attributes.hpp says.
//  - SetFile* refuse folders and SetFolder* refuse files. The named path is followed if it is a
//    symlink; inside a recursive folder, symlinks are not followed (lchown; chmod skips them).
//    Recursive permissions apply the same mode to files and folders (like chmod -R), deepest first
//    so a non-root caller never locks itself out half way.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "kiln/base/file.hpp"
#include "kiln/base/strings.hpp"
#include "kiln/base/text_encoding.hpp"
#include "kiln/toe/actions.hpp"
#include "kiln/toe/file_attributes.hpp"
#include "kiln/toe/file_paths.hpp"

namespace kiln::toe::actions {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Running the items of a module

// One input item of a list module while it runs.
struct Item {
  const Json& in;
  ActionContext& context;
  std::string_view module;
  Json& outputs;

  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    context.output.info(
        fmt::format("{}: {}", module, fmt::format(format, std::forward<Args>(args)...)));
  }
};

using ItemFn = Status (*)(Item& item);

ActionOutcome run_list(ActionContext& context, std::string_view module, ItemFn fn) {
  Json outputs = Json::object();
  const Json& inputs = context.inputs;
  size_t count = inputs.is_array() ? inputs.size() : 1;
  for (size_t i = 0; i < count; ++i) {
    if (std::optional<std::string> stop = interrupted(context)) {
      return ActionOutcome::failure(fmt::format("{} inputs[{}]: {}", module, i, *stop));
    }
    Item item{inputs.is_array() ? inputs[i] : inputs, context, module, outputs};
    Status status = fn(item);
    if (!status.ok()) {
      return ActionOutcome::failure(
          fmt::format("{} inputs[{}]: {}", module, i, status.error().message));
    }
  }
  return ActionOutcome::success(std::move(outputs));
}

Result<std::string> required(const Json& in, std::string_view key) {
  std::string value = input_string(in, key);
  if (value.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "input '{}' is required", key);
  }
  return value;
}

// The input as a path, without trailing '/'.
Result<fs::path> required_path(const Json& in, std::string_view key) {
  return without_trailing_slashes(KILN_TRY(required(in, key)));
}

// A destination ending in '/' means "into that folder".
bool names_folder(std::string_view raw) {
  return ends_with(raw, "/");
}

// ---------------------------------------------------------------------------------------------
// Text encodings (kiln/base/text_encoding.hpp)

Result<const TextEncoding*> parse_encoding(const Json& in) {
  std::string name = input_string(in, "encoding", "utf8");
  name = name.empty() ? "utf8" : name;
  if (const TextEncoding* encoding = find_text_encoding(name)) {
    return encoding;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown encoding '{}' (use utf8, utf16, utf16-le, utf16-be, utf32, "
                    "utf32-le or utf32-be)",
                    name);
}

// ---------------------------------------------------------------------------------------------
// Copying and moving

// Fails unless `target` may receive a file: not a folder and, with !overwrite, not there yet.
Status check_file_target(const fs::path& source, const fs::path& target, bool overwrite) {
  fs::file_type type = KILN_TRY(type_of(target, true));
  if (type == fs::file_type::directory) {
    return make_error(ErrorCode::kAlreadyExists, "destination {} is a folder", target.string());
  }
  std::error_code ec;
  if (type != fs::file_type::not_found && fs::equivalent(source, target, ec)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "source {} and destination {} are the same file",
                      source.string(),
                      target.string());
  }
  if (type != fs::file_type::not_found && !overwrite) {
    return make_error(ErrorCode::kAlreadyExists,
                      "destination {} already exists and overwrite is false",
                      target.string());
  }
  return ok_status();
}

Status copy_entry(const fs::path& from, const fs::path& to, fs::file_type type) {
  std::error_code ec;
  if (type == fs::file_type::directory) {
    std::error_code missing;
    if (!fs::is_directory(to, missing)) {
      fs::create_directory(to, from, ec);  // with the source folder's attributes
    }
  } else if (type == fs::file_type::symlink) {
    fs::remove(to, ec);  // copy_symlink does not replace
    if (!ec) {
      fs::copy_symlink(from, to, ec);
    }
  } else {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  }
  if (ec) {
    return fs_error(ec, fmt::format("copying {} to {}", from.string(), to.string()));
  }
  return ok_status();
}

Status copy_one_file(const fs::path& source, const fs::path& target, bool overwrite) {
  fs::file_type type = KILN_TRY(type_of(source, true));
  if (type == fs::file_type::not_found) {
    return make_error(ErrorCode::kNotFound, "source {} does not exist", source.string());
  }
  if (type == fs::file_type::directory) {
    return make_error(
        ErrorCode::kInvalidArgument, "source {} is a folder (use CopyFolder)", source.string());
  }
  KILN_TRY(check_file_target(source, target, overwrite));
  KILN_TRY(make_parents(target));
  return copy_entry(source, target, fs::file_type::regular);
}

// rename(2), or, across file systems, a copy and then removal of the source.
Status move_entry(const fs::path& source, const fs::path& target, fs::file_type type) {
  std::error_code ec;
  fs::rename(source, target, ec);
  if (ec.value() == EXDEV) {
    ec.clear();
    KILN_TRY(copy_entry(source, target, type));
    fs::remove(source, ec);
  }
  if (ec) {
    return fs_error(ec, fmt::format("moving {} to {}", source.string(), target.string()));
  }
  return ok_status();
}

Status move_one_file(const fs::path& source, const fs::path& target, bool overwrite) {
  fs::file_type type = KILN_TRY(type_of(source, false));
  if (type == fs::file_type::not_found) {
    return make_error(ErrorCode::kNotFound, "source {} does not exist", source.string());
  }
  if (type == fs::file_type::directory) {
    return make_error(
        ErrorCode::kInvalidArgument, "source {} is a folder (use MoveFolder)", source.string());
  }
  KILN_TRY(check_file_target(source, target, overwrite));
  KILN_TRY(make_parents(target));
  return move_entry(source, target, type);
}

// CopyFile and MoveFile.
Status transfer_files(Item& item, bool move) {
  std::string raw_source = KILN_TRY(required(item.in, "source"));
  std::string raw_target = KILN_TRY(required(item.in, "destination"));
  bool overwrite = KILN_TRY(input_bool(item.in, "overwrite", true));
  std::vector<fs::path> sources = KILN_TRY(expand_source(raw_source, item.context));
  fs::path target = without_trailing_slashes(raw_target);
  bool into = names_folder(raw_target) || has_wildcard(raw_source) ||
              KILN_TRY(type_of(target, true)) == fs::file_type::directory;
  for (const fs::path& source : sources) {
    KILN_TRY(check_interrupted(item.context));
    fs::path to = into ? target / source.filename() : target;
    KILN_TRY(move ? move_one_file(source, to, overwrite) : copy_one_file(source, to, overwrite));
    item.info("{} {} to {}", move ? "moved" : "copied", source.string(), to.string());
  }
  return ok_status();
}

struct CopyStep {
  fs::path from;
  fs::path to;
  fs::file_type type;
};

// Fails if copying an entry of `type` onto `to` would replace a folder by a file (or the other
// way round), or would replace a file while `overwrite` is false.
Status check_copy_step(const CopyStep& step, bool overwrite) {
  fs::file_type existing = KILN_TRY(type_of(step.to, false));
  if (existing == fs::file_type::not_found) {
    return ok_status();
  }
  bool folder = step.type == fs::file_type::directory;
  if (folder != (existing == fs::file_type::directory)) {
    return make_error(ErrorCode::kAlreadyExists,
                      "{} already exists and is {}a folder",
                      step.to.string(),
                      folder ? "not " : "");
  }
  if (!folder && !overwrite) {
    return make_error(ErrorCode::kAlreadyExists,
                      "destination {} already exists and overwrite is false",
                      step.to.string());
  }
  return ok_status();
}

// The steps that copy the tree `source` onto `target` (merging with what is there), parents
// first; checked against the destination before anything is copied.
Result<std::vector<CopyStep>> plan_folder_copy(const fs::path& source,
                                               const fs::path& target,
                                               bool overwrite,
                                               const ActionContext& context) {
  std::vector<CopyStep> plan{{source, target, fs::file_type::directory}};
  for (const fs::directory_entry& entry : KILN_TRY(list_entries(source, true, context))) {
    std::error_code ec;
    fs::file_type type = entry.symlink_status(ec).type();
    if (type != fs::file_type::directory && type != fs::file_type::regular &&
        type != fs::file_type::symlink) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{} is not a file, folder or symlink",
                        entry.path().string());
    }
    plan.push_back({entry.path(), target / entry.path().lexically_relative(source), type});
  }
  for (const CopyStep& step : plan) {
    KILN_TRY(check_copy_step(step, overwrite));
  }
  return plan;
}

Status copy_folder_tree(const fs::path& source,
                        const fs::path& target,
                        bool overwrite,
                        const ActionContext& context) {
  std::vector<CopyStep> plan = KILN_TRY(plan_folder_copy(source, target, overwrite, context));
  KILN_TRY(make_parents(target));
  for (const CopyStep& step : plan) {
    KILN_TRY(check_interrupted(context));
    KILN_TRY(copy_entry(step.from, step.to, step.type));
  }
  return ok_status();
}

// MoveFolder: rename when the destination is free, else merge a copy and remove the source.
Status move_folder_tree(const fs::path& source,
                        const fs::path& target,
                        bool overwrite,
                        const ActionContext& context) {
  if (KILN_TRY(type_of(target, false)) == fs::file_type::not_found) {
    KILN_TRY(make_parents(target));
    std::error_code ec;
    fs::rename(source, target, ec);
    if (!ec || ec.value() != EXDEV) {
      return ec ? fs_error(ec, fmt::format("moving {} to {}", source.string(), target.string()))
                : ok_status();
    }
  }
  KILN_TRY(copy_folder_tree(source, target, overwrite, context));
  std::error_code ec;
  fs::remove_all(source, ec);
  if (ec) {
    return fs_error(ec, fmt::format("removing {} after copying it", source.string()));
  }
  return ok_status();
}

// CopyFolder and MoveFolder.
Status transfer_folder(Item& item, bool move) {
  std::string raw_source = KILN_TRY(required(item.in, "source"));
  std::string raw_target = KILN_TRY(required(item.in, "destination"));
  bool overwrite = KILN_TRY(input_bool(item.in, "overwrite", true));
  fs::path source = without_trailing_slashes(raw_source);
  KILN_TRY(require_folder(source));
  fs::path target = names_folder(raw_target)
                        ? without_trailing_slashes(raw_target) / source.filename()
                        : without_trailing_slashes(raw_target);
  KILN_TRY(refuse_nesting(source, target));
  KILN_TRY(move ? move_folder_tree(source, target, overwrite, item.context)
                : copy_folder_tree(source, target, overwrite, item.context));
  item.info("{} {} to {}", move ? "moved" : "copied", source.string(), target.string());
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// The modules' items

Status append_file_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  const TextEncoding* encoding = KILN_TRY(parse_encoding(item.in));
  KILN_TRY(require_file(path));
  std::error_code ec;
  bool empty = fs::file_size(path, ec) == 0 && !ec;
  std::string bytes = KILN_TRY(encode_text(input_string(item.in, "content"), *encoding, empty));
  KILN_TRY(::kiln::append_file(path, bytes));
  item.info("appended {} bytes to {}", bytes.size(), path.string());
  return ok_status();
}

Status create_file_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  bool overwrite = KILN_TRY(input_bool(item.in, "overwrite", true));
  const TextEncoding* encoding = KILN_TRY(parse_encoding(item.in));
  FileAttributes attributes = KILN_TRY(parse_file_attributes(item.in));
  std::string bytes = KILN_TRY(encode_text(input_string(item.in, "content"), *encoding, true));
  fs::file_type type = KILN_TRY(type_of(path, true));
  if (type == fs::file_type::directory) {
    return make_error(ErrorCode::kAlreadyExists, "{} is a folder", path.string());
  }
  if (type != fs::file_type::not_found && !overwrite) {
    return make_error(
        ErrorCode::kAlreadyExists, "{} already exists and overwrite is false", path.string());
  }
  KILN_TRY(make_parents(path));
  KILN_TRY(::kiln::write_file(path, bytes, 0666));  // 0666 & ~umask when created
  KILN_TRY(apply_file_attributes(path, attributes));
  item.info("wrote {} ({} bytes)", path.string(), bytes.size());
  return ok_status();
}

Status create_folder_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  bool overwrite = KILN_TRY(input_bool(item.in, "overwrite", true));
  FileAttributes attributes = KILN_TRY(parse_file_attributes(item.in));
  fs::file_type type = KILN_TRY(type_of(path, true));
  if (type != fs::file_type::not_found && type != fs::file_type::directory) {
    return make_error(
        ErrorCode::kAlreadyExists, "{} already exists and is not a folder", path.string());
  }
  if (type == fs::file_type::directory && !overwrite) {
    return make_error(ErrorCode::kAlreadyExists,
                      "folder {} already exists and overwrite is false",
                      path.string());
  }
  std::error_code ec;
  fs::create_directories(path, ec);  // 0777 & ~umask
  if (ec) {
    return fs_error(ec, fmt::format("creating folder {}", path.string()));
  }
  KILN_TRY(apply_file_attributes(path, attributes));
  item.info("{} {}",
            type == fs::file_type::directory ? "kept existing folder" : "created",
            path.string());
  return ok_status();
}

// Points `link` at `target` by renaming a new symlink over it, so it is never missing.
Status replace_with_symlink(const fs::path& link, const std::string& target) {
  fs::path temp = fmt::format("{}.kiln-{}", link.string(), ::getpid());
  std::error_code ec;
  fs::create_symlink(target, temp, ec);
  if (!ec) {
    fs::rename(temp, link, ec);
  }
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return fs_error(ec, fmt::format("creating symlink {} -> {}", link.string(), target));
  }
  return ok_status();
}

Status create_symlink_item(Item& item) {
  std::string raw_link = KILN_TRY(required(item.in, "path"));
  std::string target = KILN_TRY(required(item.in, "target"));
  bool force = KILN_TRY(input_bool(item.in, "force", false));
  std::error_code ec;
  fs::path link = fs::absolute(without_trailing_slashes(raw_link), ec);
  if (ec) {
    return fs_error(ec, fmt::format("resolving {}", raw_link));
  }
  fs::path resolved = link.parent_path() / target;  // an absolute target replaces the folder
  if (KILN_TRY(type_of(resolved, true)) == fs::file_type::not_found) {
    return make_error(ErrorCode::kNotFound, "symlink target {} does not exist", target);
  }
  fs::file_type existing = KILN_TRY(type_of(link, false));
  if (existing != fs::file_type::not_found && !force) {
    return make_error(
        ErrorCode::kAlreadyExists, "{} already exists and force is false", link.string());
  }
  if (existing == fs::file_type::directory) {
    return make_error(
        ErrorCode::kAlreadyExists, "{} is a folder; force replaces only files", link.string());
  }
  KILN_TRY(make_parents(link));
  KILN_TRY(replace_with_symlink(link, target));
  item.info("linked {} -> {}", link.string(), target);
  return ok_status();
}

Status delete_file_item(Item& item) {
  std::string raw = KILN_TRY(required(item.in, "path"));
  for (const fs::path& path : KILN_TRY(expand_source(raw, item.context))) {
    fs::file_type type = KILN_TRY(type_of(path, false));
    if (type == fs::file_type::not_found) {
      return make_error(ErrorCode::kNotFound, "{} does not exist", path.string());
    }
    if (type == fs::file_type::directory) {
      return make_error(
          ErrorCode::kInvalidArgument, "{} is a folder (use DeleteFolder)", path.string());
    }
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
      return fs_error(ec, fmt::format("deleting {}", path.string()));
    }
    item.info("deleted {}", path.string());
  }
  return ok_status();
}

Status delete_folder_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  bool force = KILN_TRY(input_bool(item.in, "force", false));
  if (KILN_TRY(type_of(path, false)) != fs::file_type::directory) {
    KILN_TRY(require_folder(path));  // names the problem: missing, or not a folder
    return make_error(ErrorCode::kInvalidArgument, "{} is a symlink, not a folder", path.string());
  }
  std::error_code ec;
  if (fs::weakly_canonical(path, ec) == "/") {
    return make_error(
        ErrorCode::kInvalidArgument, "refusing to delete the root folder {}", path.string());
  }
  if (force) {
    fs::remove_all(path, ec);
  } else {
    fs::remove(path, ec);
  }
  if (ec && (ec.value() == ENOTEMPTY || ec.value() == EEXIST)) {
    return make_error(
        ErrorCode::kConflict, "folder {} is not empty and force is false", path.string());
  }
  if (ec) {
    return fs_error(ec, fmt::format("deleting folder {}", path.string()));
  }
  item.info("deleted folder {}", path.string());
  return ok_status();
}

// Appends `files` to the comma-joined `files` output.
void add_files_output(Json& outputs, const std::vector<std::string>& files) {
  std::string joined = join(files, ",");
  std::string previous = outputs.value("files", "");
  outputs["files"] = previous.empty() || joined.empty() ? previous + joined
                                                        : fmt::format("{},{}", previous, joined);
}

Status list_files_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  std::string pattern = input_string(item.in, "fileNamePattern", "*");
  pattern = pattern.empty() ? "*" : pattern;
  bool recursive = KILN_TRY(input_bool(item.in, "recursive", false));
  KILN_TRY(require_folder(path));
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : KILN_TRY(list_entries(path, recursive, item.context))) {
    if (!is_folder(entry) && name_matches(pattern, entry.path())) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  add_files_output(item.outputs, files);
  item.info("{} files in {} match {}", files.size(), path.string(), pattern);
  return ok_status();
}

Result<Json> read_text(ActionContext& context) {
  KILN_TRY(check_interrupted(context));
  const Json& in =
      context.inputs.is_array() && !context.inputs.empty() ? context.inputs[0] : context.inputs;
  fs::path path = KILN_TRY(required_path(in, "path"));
  const TextEncoding* encoding = KILN_TRY(parse_encoding(in));
  bool print = KILN_TRY(input_bool(in, "printFileContent", false));
  KILN_TRY(require_file(path));
  std::string bytes = KILN_TRY(::kiln::read_file(path));
  std::string text = KILN_TRY_CTX(decode_text(bytes, *encoding), path.string());
  context.output.info(fmt::format("ReadFile: read {} ({} bytes)", path.string(), bytes.size()));
  if (print) {
    context.output.info(text);
  }
  Json out = Json::object();
  out["content"] = text;
  return out;
}

// Replaces the content of `path` through a temporary file and rename, keeping mode and owner.
Status rewrite_file(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);  // replace the file, not a symlink to it
  struct stat st {};
  if (ec || ::stat(real.c_str(), &st) != 0) {
    return errno_error(ec ? ec.value() : errno, fmt::format("inspecting {}", path.string()));
  }
  AtomicFile file = KILN_TRY(AtomicFile::open(real, static_cast<int>(st.st_mode & 07777)));
  KILN_TRY(file.write(content));
  KILN_TRY(file.commit());
  if (::chown(real.c_str(), st.st_uid, st.st_gid) != 0) {
    return errno_error(errno, fmt::format("restoring the owner of {}", real.string()));
  }
  return ok_status();
}

Status set_file_encoding_item(Item& item) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  const TextEncoding* encoding = KILN_TRY(parse_encoding(item.in));
  KILN_TRY(require_file(path));
  std::string text = KILN_TRY(::kiln::read_file(path));
  std::string bytes =
      KILN_TRY_CTX(encode_text(without_utf8_mark(text), *encoding, true), path.string());
  KILN_TRY(rewrite_file(path, bytes));
  item.info("converted {} to {} ({} bytes)", path.string(), encoding->name, bytes.size());
  return ok_status();
}

// The named path plus, when `recursive`, everything below it; deepest entries first.
Result<std::vector<fs::path>> tree_deepest_first(const fs::path& root,
                                                 bool recursive,
                                                 const ActionContext& context) {
  std::vector<fs::path> out;
  if (recursive) {
    for (const fs::directory_entry& entry : KILN_TRY(list_entries(root, true, context))) {
      out.push_back(entry.path());
    }
  }
  std::reverse(out.begin(), out.end());
  out.push_back(root);
  return out;
}

Status require_kind(const fs::path& path, bool folder) {
  return folder ? require_folder(path) : require_file(path);
}

// SetFileOwner and SetFolderOwner.
Status set_owner(Item& item, bool folder) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  std::string owner_name = KILN_TRY(required(item.in, "owner"));
  bool recursive = folder && KILN_TRY(input_bool(item.in, "recursive", true));
  Owner owner = KILN_TRY(resolve_owner(owner_name, input_string(item.in, "group")));
  KILN_TRY(require_kind(path, folder));
  for (const fs::path& entry : KILN_TRY(tree_deepest_first(path, recursive, item.context))) {
    KILN_TRY(change_owner(entry, owner, entry == path));  // never follow links inside the tree
  }
  item.info("set owner of {} to {}{}", path.string(), owner.text, recursive ? " recursively" : "");
  return ok_status();
}

// SetFilePermissions and SetFolderPermissions.
Status set_permissions(Item& item, bool folder) {
  fs::path path = KILN_TRY(required_path(item.in, "path"));
  std::string permissions = KILN_TRY(required(item.in, "permissions"));
  mode_t mode = KILN_TRY(parse_permissions(permissions));
  bool recursive = folder && KILN_TRY(input_bool(item.in, "recursive", true));
  KILN_TRY(require_kind(path, folder));
  for (const fs::path& entry : KILN_TRY(tree_deepest_first(path, recursive, item.context))) {
    if (entry == path || KILN_TRY(type_of(entry, false)) != fs::file_type::symlink) {
      KILN_TRY(change_mode(entry, mode));  // chmod would follow a link out of the tree
    }
  }
  item.info(
      "set permissions of {} to {:04o}{}", path.string(), mode, recursive ? " recursively" : "");
  return ok_status();
}

}  // namespace

ActionOutcome append_file(ActionContext& context) {
  return run_list(context, "AppendFile", append_file_item);
}

ActionOutcome copy_file(ActionContext& context) {
  return run_list(context, "CopyFile", [](Item& item) { return transfer_files(item, false); });
}

ActionOutcome copy_folder(ActionContext& context) {
  return run_list(context, "CopyFolder", [](Item& item) { return transfer_folder(item, false); });
}

ActionOutcome create_file(ActionContext& context) {
  return run_list(context, "CreateFile", create_file_item);
}

ActionOutcome create_folder(ActionContext& context) {
  return run_list(context, "CreateFolder", create_folder_item);
}

ActionOutcome create_symlink(ActionContext& context) {
  return run_list(context, "CreateSymlink", create_symlink_item);
}

ActionOutcome delete_file(ActionContext& context) {
  return run_list(context, "DeleteFile", delete_file_item);
}

ActionOutcome delete_folder(ActionContext& context) {
  return run_list(context, "DeleteFolder", delete_folder_item);
}

ActionOutcome list_files(ActionContext& context) {
  ActionOutcome outcome = run_list(context, "ListFiles", list_files_item);
  if (outcome.kind == ActionOutcome::Kind::kSuccess && !outcome.outputs.contains("files")) {
    outcome.outputs["files"] = "";  // no input items
  }
  return outcome;
}

ActionOutcome move_file(ActionContext& context) {
  return run_list(context, "MoveFile", [](Item& item) { return transfer_files(item, true); });
}

ActionOutcome move_folder(ActionContext& context) {
  return run_list(context, "MoveFolder", [](Item& item) { return transfer_folder(item, true); });
}

ActionOutcome read_file(ActionContext& context) {
  Result<Json> outputs = read_text(context);
  if (!outputs.ok()) {
    return ActionOutcome::failure(fmt::format("ReadFile: {}", outputs.error().message));
  }
  return ActionOutcome::success(std::move(outputs).value());
}

ActionOutcome set_file_encoding(ActionContext& context) {
  return run_list(context, "SetFileEncoding", set_file_encoding_item);
}

ActionOutcome set_file_owner(ActionContext& context) {
  return run_list(context, "SetFileOwner", [](Item& item) { return set_owner(item, false); });
}

ActionOutcome set_folder_owner(ActionContext& context) {
  return run_list(context, "SetFolderOwner", [](Item& item) { return set_owner(item, true); });
}

ActionOutcome set_file_permissions(ActionContext& context) {
  return run_list(
      context, "SetFilePermissions", [](Item& item) { return set_permissions(item, false); });
}

ActionOutcome set_folder_permissions(ActionContext& context) {
  return run_list(
      context, "SetFolderPermissions", [](Item& item) { return set_permissions(item, true); });
}

}  // namespace kiln::toe::actions
