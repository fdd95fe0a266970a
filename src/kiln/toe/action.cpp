#include "kiln/toe/action.hpp"

#include <algorithm>
#include <iterator>

#include "kiln/toe/actions.hpp"

namespace kiln::toe {
namespace {

struct Binding {
  std::string_view name;
  ActionFn fn;
};

// Alphabetical, like document::all_modules(); action_test checks both tables agree.
constexpr Binding kBindings[] = {
    {"AppendFile", actions::append_file},
    {"Assert", actions::assert_expression},
    {"CopyFile", actions::copy_file},
    {"CopyFolder", actions::copy_folder},
    {"CreateFile", actions::create_file},
    {"CreateFolder", actions::create_folder},
    {"CreateSymlink", actions::create_symlink},
    {"DeleteFile", actions::delete_file},
    {"DeleteFolder", actions::delete_folder},
    {"ExecuteBash", actions::execute_bash},
    {"ExecuteBinary", actions::execute_binary},
    {"ExecuteDocument", actions::execute_document},
    {"ExecutePowerShell", actions::windows_only},
    {"InstallMSI", actions::windows_only},
    {"ListFiles", actions::list_files},
    {"MoveFile", actions::move_file},
    {"MoveFolder", actions::move_folder},
    {"ReadFile", actions::read_file},
    {"Reboot", actions::reboot},
    {"S3Download", actions::s3_download},
    {"S3Upload", actions::s3_upload},
    {"SetFileEncoding", actions::set_file_encoding},
    {"SetFileOwner", actions::set_file_owner},
    {"SetFilePermissions", actions::set_file_permissions},
    {"SetFolderOwner", actions::set_folder_owner},
    {"SetFolderPermissions", actions::set_folder_permissions},
    {"SetRegistry", actions::windows_only},
    {"UninstallMSI", actions::windows_only},
    {"UpdateOS", actions::update_os},
    {"WebDownload", actions::web_download},
};

}  // namespace

ActionFn find_action(std::string_view module_name) {
  auto it = std::lower_bound(std::begin(kBindings),
                             std::end(kBindings),
                             module_name,
                             [](const Binding& b, std::string_view n) { return b.name < n; });
  return (it != std::end(kBindings) && it->name == module_name) ? it->fn : nullptr;
}

}  // namespace kiln::toe
