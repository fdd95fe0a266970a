# `format` rewrites every C++ file in place; `check-format` fails if any would change.
find_program(KILN_CLANG_FORMAT NAMES clang-format clang-format-14)
if(KILN_CLANG_FORMAT)
  add_custom_target(format
    COMMAND ${CMAKE_COMMAND} -E env CLANG_FORMAT=${KILN_CLANG_FORMAT}
            ${PROJECT_SOURCE_DIR}/scripts/format.sh
    COMMENT "clang-format -i")
  add_custom_target(check-format
    COMMAND ${CMAKE_COMMAND} -E env CLANG_FORMAT=${KILN_CLANG_FORMAT}
            ${PROJECT_SOURCE_DIR}/scripts/format.sh --check
    COMMENT "clang-format --dry-run --Werror")
endif()
