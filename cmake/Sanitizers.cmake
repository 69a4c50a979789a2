# cmake/Sanitizers.cmake — global sanitizer instrumentation for horus.
#
# Usage (top-level CMakeLists.txt, before any targets are defined):
#   set(HORUS_SANITIZE "" CACHE STRING "Sanitizer: '', 'address' (ASan+UBSan) or 'thread' (TSan)")
#   include(cmake/Sanitizers.cmake)
#
#   HORUS_SANITIZE=address -> -fsanitize=address,undefined -fno-omit-frame-pointer
#                             -fno-sanitize-recover=undefined
#   HORUS_SANITIZE=thread  -> -fsanitize=thread
# Flags are added with add_compile_options/add_link_options, i.e. to every
# target defined after the include (in this directory and below).
include_guard(GLOBAL)

if(NOT DEFINED HORUS_SANITIZE)
  set(HORUS_SANITIZE "" CACHE STRING "Sanitizer: '', 'address' (ASan+UBSan) or 'thread' (TSan)")
endif()
set_property(CACHE HORUS_SANITIZE PROPERTY STRINGS "" "address" "thread")

if(HORUS_SANITIZE STREQUAL "")
  return()
endif()

if(MSVC)
  message(FATAL_ERROR "HORUS_SANITIZE=${HORUS_SANITIZE} is only supported with GCC/Clang")
endif()

if(HORUS_SANITIZE STREQUAL "address")
  set(_horus_san_flags
      -fsanitize=address,undefined
      -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
elseif(HORUS_SANITIZE STREQUAL "thread")
  set(_horus_san_flags -fsanitize=thread)
else()
  message(FATAL_ERROR "Unknown HORUS_SANITIZE='${HORUS_SANITIZE}' (expected '', 'address' or 'thread')")
endif()

# Make sure the compiler/linker actually accept the flags (e.g. clang without
# libclang-rt-*-dev installed links fine at compile time but fails at link).
include(CheckCXXSourceCompiles)
set(_horus_saved_flags "${CMAKE_REQUIRED_FLAGS}")
set(_horus_saved_link "${CMAKE_REQUIRED_LINK_OPTIONS}")
string(REPLACE ";" " " CMAKE_REQUIRED_FLAGS "${_horus_san_flags}")
set(CMAKE_REQUIRED_LINK_OPTIONS ${_horus_san_flags})
check_cxx_source_compiles("int main() { return 0; }" HORUS_SANITIZER_WORKS_${HORUS_SANITIZE})
set(CMAKE_REQUIRED_FLAGS "${_horus_saved_flags}")
set(CMAKE_REQUIRED_LINK_OPTIONS "${_horus_saved_link}")
if(NOT HORUS_SANITIZER_WORKS_${HORUS_SANITIZE})
  message(FATAL_ERROR
    "Compiler ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} cannot build/link with "
    "${_horus_san_flags}. For clang-14 install libclang-rt-14-dev (scripts/bootstrap.sh does).")
endif()

message(STATUS "horus: sanitizer '${HORUS_SANITIZE}': ${_horus_san_flags}")
add_compile_options(${_horus_san_flags})
add_link_options(${_horus_san_flags})
# Debug info makes sanitizer reports readable even in optimized builds.
add_compile_options(-g)
