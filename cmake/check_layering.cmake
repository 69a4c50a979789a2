# cmake/check_layering.cmake — ctest layering.UpwardIncludeFailsToBuild.
# Builds horus_layering_probe (a pool-layer source that includes horus/topic/topic.hpp)
# and passes only if that build fails because the topic header cannot be found from
# the pool layer; any other outcome (it builds, or fails for another reason) fails.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target horus_layering_probe
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "a pool source including horus/topic/topic.hpp built: the layering is not enforced")
endif()
# gcc: "horus/topic/topic.hpp: No such file or directory"; clang: "'horus/topic/topic.hpp' file not found"
if(NOT "${out}${err}" MATCHES "horus/topic/topic.hpp(: No such file|' file not found)")
  message(FATAL_ERROR "the probe failed for another reason than the upward include:\n${out}${err}")
endif()
message(STATUS "upward include refused as expected")
