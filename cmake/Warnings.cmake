# One INTERFACE target carries the warning flags for every kiln target.
add_library(kiln_warnings INTERFACE)
target_compile_options(kiln_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough)
if(KILN_WERROR)
  target_compile_options(kiln_warnings INTERFACE -Werror)
endif()

# GCC 12 at -O3 (Release) reports -Wrestrict on plain std::string concatenations inside
# libstdc++ (GCC bug 105329, fixed in GCC 13): a false positive, kept out of -Werror there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(kiln_warnings INTERFACE -Wno-restrict)
endif()
