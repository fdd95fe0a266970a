# One INTERFACE target carries the warning flags for every kiln target.
add_library(kiln_warnings INTERFACE)
target_compile_options(kiln_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wformat=2 -Wimplicit-fallthrough)
if(KILN_WERROR)
  target_compile_options(kiln_warnings INTERFACE -Werror)
endif()
