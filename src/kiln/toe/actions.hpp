#pragma once

// Declarations of every action module's implementation; action.cpp binds them to names.

#include "kiln/toe/action.hpp"

namespace kiln::toe::actions {

// actions_exec.cpp: processes, documents, assertions, the OS.
ActionOutcome execute_bash(ActionContext& context);
ActionOutcome execute_binary(ActionContext& context);
ActionOutcome execute_document(ActionContext& context);
ActionOutcome assert_expression(ActionContext& context);
ActionOutcome reboot(ActionContext& context);
ActionOutcome update_os(ActionContext& context);
ActionOutcome windows_only(ActionContext& context);

// actions_file.cpp: the file-system modules.
ActionOutcome append_file(ActionContext& context);
ActionOutcome copy_file(ActionContext& context);
ActionOutcome copy_folder(ActionContext& context);
ActionOutcome create_file(ActionContext& context);
ActionOutcome create_folder(ActionContext& context);
ActionOutcome create_symlink(ActionContext& context);
ActionOutcome delete_file(ActionContext& context);
ActionOutcome delete_folder(ActionContext& context);
ActionOutcome list_files(ActionContext& context);
ActionOutcome move_file(ActionContext& context);
ActionOutcome move_folder(ActionContext& context);
ActionOutcome read_file(ActionContext& context);
ActionOutcome set_file_encoding(ActionContext& context);
ActionOutcome set_file_owner(ActionContext& context);
ActionOutcome set_folder_owner(ActionContext& context);
ActionOutcome set_file_permissions(ActionContext& context);
ActionOutcome set_folder_permissions(ActionContext& context);

// actions_net.cpp: downloads and uploads.
ActionOutcome web_download(ActionContext& context);
ActionOutcome s3_download(ActionContext& context);
ActionOutcome s3_upload(ActionContext& context);

}  // namespace kiln::toe::actions
