# `cmake --install build --prefix P` (docs/embedding.md): libfedactor_core.a, the public headers
# under include/fedactor/, the CMake package `fedactor` (target fedactor::core) and the fedactor
# executable.
include(CMakePackageConfigHelpers)

set(FEDACTOR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fedactor)

# What an embedder includes: the federation, the CAF config, the scenario loader, the counter-based
# RNG and error codes for its own parts. Installed with every project header they include.
set(FEDACTOR_PUBLIC_HEADERS
  runtime/host/federation.hpp
  runtime/host/system_config.hpp
  runtime/scenario/load.hpp
  runtime/math/rng.hpp
  messages/errors.hpp)

install(TARGETS fedactor_core EXPORT fedactorTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS fedactor RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "
  include(\"${PROJECT_SOURCE_DIR}/cmake/header_closure.cmake\")
  fedactor_header_closure(\"${PROJECT_SOURCE_DIR}\" \"${FEDACTOR_PUBLIC_HEADERS}\" headers)
  foreach(header IN LISTS headers)
    get_filename_component(dir \"\${header}\" DIRECTORY)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_INCLUDEDIR}/fedactor/\${dir}\"
         TYPE FILE FILES \"${PROJECT_SOURCE_DIR}/\${header}\")
  endforeach()")

install(EXPORT fedactorTargets NAMESPACE fedactor:: DESTINATION ${FEDACTOR_CMAKE_DIR})
configure_package_config_file(cmake/fedactorConfig.cmake.in
  ${PROJECT_BINARY_DIR}/fedactorConfig.cmake INSTALL_DESTINATION ${FEDACTOR_CMAKE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/fedactorConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/fedactorConfig.cmake
              ${PROJECT_BINARY_DIR}/fedactorConfigVersion.cmake
              cmake/FindCAF.cmake
        DESTINATION ${FEDACTOR_CMAKE_DIR})
