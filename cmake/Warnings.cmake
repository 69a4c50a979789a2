# cmake/Warnings.cmake — per-target warning flags for horus.
#
#   include(cmake/Warnings.cmake)
#   horus_set_warnings(horus_core)            # warnings only
#   horus_set_warnings(horus_core WERROR)     # ...and treat them as errors
#
# -Wshadow/-Wconversion are deliberately left out (too noisy for this code base).
include_guard(GLOBAL)

function(horus_set_warnings target)
  cmake_parse_arguments(ARG "WERROR" "" "" ${ARGN})
  if(MSVC)
    set(_flags /W4 /permissive-)
    if(ARG_WERROR)
      list(APPEND _flags /WX)
    endif()
  else()
    set(_flags -Wall -Wextra -Wpedantic)
    if(ARG_WERROR)
      list(APPEND _flags -Werror)
    endif()
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:C,CXX>:${_flags}>")
endfunction()
