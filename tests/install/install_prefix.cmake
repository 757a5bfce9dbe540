# ctest (cmake -P): `cmake --install BUILD_DIR --prefix PREFIX` into an emptied PREFIX, then
# checks that the library, the package files and the embedding API's headers are there.
#   -DBUILD_DIR=... -DPREFIX=... -DLIBDIR=... -DINCLUDEDIR=...
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${rc}")
endif()
foreach(file
    "${LIBDIR}/libfedactor_core.a"
    "${LIBDIR}/cmake/fedactor/fedactorConfig.cmake"
    "${LIBDIR}/cmake/fedactor/fedactorConfigVersion.cmake"
    "${LIBDIR}/cmake/fedactor/fedactorTargets.cmake"
    "${LIBDIR}/cmake/fedactor/FindCAF.cmake"
    "${INCLUDEDIR}/fedactor/runtime/host/federation.hpp"
    "${INCLUDEDIR}/fedactor/runtime/host/system_config.hpp"
    "${INCLUDEDIR}/fedactor/runtime/scenario/load.hpp")
  if(NOT EXISTS "${PREFIX}/${file}")
    message(FATAL_ERROR "not installed: ${PREFIX}/${file}")
  endif()
endforeach()
file(GLOB_RECURSE sources "${PREFIX}/${INCLUDEDIR}/*.cpp")
if(sources)
  message(FATAL_ERROR "sources installed as headers: ${sources}")
endif()
