# The installed package under test (included from the top CMakeLists.txt, testing on): install
# into BUILD/install-test, compile the public headers alone, build and run examples/consumer.
set(FEDACTOR_TEST_PREFIX ${PROJECT_BINARY_DIR}/install-test)
set(FEDACTOR_CONSUMER_LAUNCHER "${CMAKE_CXX_COMPILER_LAUNCHER}")

add_test(NAME "install: the package installs into a fresh prefix"
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${FEDACTOR_TEST_PREFIX}
          -DLIBDIR=${CMAKE_INSTALL_LIBDIR} -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR}
          -P ${CMAKE_CURRENT_LIST_DIR}/install_prefix.cmake)
set_tests_properties("install: the package installs into a fresh prefix" PROPERTIES
  FIXTURES_SETUP fedactor_installed TIMEOUT 120)

add_test(NAME "install: every public header compiles without LibTorch"
  COMMAND ${CMAKE_COMMAND} -DPREFIX=${FEDACTOR_TEST_PREFIX}
          -DINCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR} -DCXX=${CMAKE_CXX_COMPILER}
          -DCAF_INCLUDE_DIR=${CAF_INCLUDE_DIR}
          "-DIMPLICIT_DIRS=${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES}"
          -DWORK_DIR=${PROJECT_BINARY_DIR}/install-test-headers
          -P ${CMAKE_CURRENT_LIST_DIR}/public_headers.cmake)
set_tests_properties("install: every public header compiles without LibTorch" PROPERTIES
  FIXTURES_REQUIRED fedactor_installed TIMEOUT 300)

add_test(NAME "install: examples/consumer builds against the package and runs"
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DPREFIX=${FEDACTOR_TEST_PREFIX}
          -DCXX=${CMAKE_CXX_COMPILER} "-DLAUNCHER=${FEDACTOR_CONSUMER_LAUNCHER}"
          -DWORK_DIR=${PROJECT_BINARY_DIR}/install-test-consumer
          -P ${CMAKE_CURRENT_LIST_DIR}/consumer.cmake)
set_tests_properties("install: examples/consumer builds against the package and runs" PROPERTIES
  FIXTURES_REQUIRED fedactor_installed TIMEOUT 600)
