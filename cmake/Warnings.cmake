# cmake/Warnings.cmake — the warning flags of every horus target.
#
#   horus_set_warnings(target)          # -Wall -Wextra -Wpedantic; -Werror when HORUS_WERROR is ON
#   horus_set_warnings(target WERROR)   # -Werror regardless of HORUS_WERROR
#   horus_check_warnings(dir)           # configure fails if a target under dir lacks them
#
# -Wshadow/-Wconversion are deliberately left out (too noisy for this code base).
include_guard(GLOBAL)

function(horus_set_warnings target)
  cmake_parse_arguments(ARG "WERROR" "" "" ${ARGN})
  set(_flags -Wall -Wextra -Wpedantic)
  if(ARG_WERROR OR HORUS_WERROR)
    list(APPEND _flags -Werror)
    # GCC 12-13 at -O3 report -Wrestrict falsely on "literal" + std::string (GCC bug 105329).
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
       AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 14)
      list(APPEND _flags -Wno-error=restrict)
    endif()
  endif()
  target_compile_options(${target} PRIVATE "$<$<COMPILE_LANGUAGE:C,CXX>:${_flags}>")
  set_property(TARGET ${target} PROPERTY HORUS_WARNINGS ON)
endfunction()

# Every compiled target defined in dir and its subdirectories must have had
# horus_set_warnings; nanobind's own support library (nanobind-*) is exempt.
function(horus_check_warnings dir)
  get_property(_targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t IN LISTS _targets)
    get_target_property(_type ${t} TYPE)
    if(_type MATCHES "^(EXECUTABLE|STATIC_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|OBJECT_LIBRARY)$"
       AND NOT t MATCHES "^nanobind")
      get_target_property(_set ${t} HORUS_WARNINGS)
      if(NOT _set)
        message(FATAL_ERROR "target ${t} (${dir}) has no horus_set_warnings(${t})")
      endif()
    endif()
  endforeach()
  get_property(_subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(d IN LISTS _subdirs)
    horus_check_warnings(${d})
  endforeach()
endfunction()
