# cmake/HorusLayers.cmake — the C++ core as layers the compiler enforces.
#
#   horus_add_layer(pool)   # cpp/src/pool/*.cpp -> OBJECT library horus_pool
#
# Layers, bottom-up: base session pool msg topic sched (HORUS_LAYERS). Each layer
# is compiled against an include tree of its own, build/layer-include/<layer>/,
# holding symlinks to cpp/include/horus/<l> for itself and the layers below only.
# An include of a higher layer's header ("horus/topic/topic.hpp" from the pool)
# is therefore "No such file" at compile time. The `horus` library (top-level
# CMakeLists.txt) is the union of every layer's objects plus cpp/src/compose.cpp.
include_guard(GLOBAL)

set(HORUS_LAYERS base session pool msg topic sched)
set(HORUS_UNITY_LAYERS base session pool topic)

function(horus_layer_include_tree layer out_dir)
  set(dir ${CMAKE_BINARY_DIR}/layer-include/${layer})
  file(MAKE_DIRECTORY ${dir}/horus)
  foreach(l IN LISTS HORUS_LAYERS)
    if(NOT EXISTS ${dir}/horus/${l})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/cpp/include/horus/${l} ${dir}/horus/${l} SYMBOLIC)
    endif()
    if(l STREQUAL layer)
      break()
    endif()
  endforeach()
  set(${out_dir} ${dir} PARENT_SCOPE)
endfunction()

function(horus_add_layer layer)
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/cpp/src/${layer}/*.cpp)
  horus_layer_include_tree(${layer} tree)
  add_library(horus_${layer} OBJECT ${srcs})
  # One translation unit for the layers on the hot path: the sources stay split by
  # concept, and calls between them (the pool's allocation -> segments -> size classes,
  # the topic's publish -> early release) are inlined as in one file.
  if(layer IN_LIST HORUS_UNITY_LAYERS)
    set_target_properties(horus_${layer} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
  endif()
  target_include_directories(horus_${layer} PRIVATE ${tree})
  target_link_libraries(horus_${layer} PRIVATE Threads::Threads)
  horus_set_warnings(horus_${layer})
endfunction()
