# Sanitizers for a whole build tree (docs/security.md, "How it is tested"; scripts/test.sh).
#
#   KILN_SANITIZE=address,undefined   every target compiled and linked with these sanitizers;
#                                     UBSan findings abort (-fno-sanitize-recover=all)
#   KILN_BUILD_FUZZ=ON                clang only: every target also gets libFuzzer's coverage
#                                     instrumentation (-fsanitize=fuzzer-no-link), and the
#                                     harnesses of fuzz/ link libFuzzer's main; KILN_SANITIZE
#                                     defaults to address,undefined
#
# CI builds one clang tree with both (build-asan): the unit tests run there under ASan and UBSan
# and the fuzzers use the same instrumented libraries, so the libraries are compiled once for
# both. The unit tests carry the coverage instrumentation too; its callbacks are the sanitizer
# runtime's no-op defaults, which cost little.
set(KILN_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined")

if(KILN_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "KILN_BUILD_FUZZ needs clang (libFuzzer): configure a separate build "
                        "tree with CC=clang CXX=clang++ -DKILN_BUILD_FUZZ=ON")
  endif()
  if(NOT KILN_SANITIZE)
    set(KILN_SANITIZE address,undefined)
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(KILN_SANITIZE)
  message(STATUS "kiln: every target built with -fsanitize=${KILN_SANITIZE}")
  add_compile_options(-fsanitize=${KILN_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${KILN_SANITIZE})
endif()
