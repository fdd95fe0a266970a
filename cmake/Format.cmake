# `format` rewrites every C++ file in place; `check-format` fails if any would change.
find_program(KILN_CLANG_FORMAT NAMES clang-format clang-format-14)
if(KILN_CLANG_FORMAT)
  set(kiln_format_dirs src apps tests bench fuzz)
  set(kiln_format_find
      find ${kiln_format_dirs} -name node_modules -prune -o
      \( -name *.cpp -o -name *.hpp \) -print)
  add_custom_target(format
    COMMAND ${kiln_format_find} | xargs ${KILN_CLANG_FORMAT} -i
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-format -i")
  add_custom_target(check-format
    COMMAND ${kiln_format_find} | xargs ${KILN_CLANG_FORMAT} --dry-run --Werror
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "clang-format --dry-run --Werror")
endif()
