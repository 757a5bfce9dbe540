# ctest (cmake -P): examples/consumer, a project of its own, configured against the installed
# package (find_package(fedactor), fedactor::core only), built, and run: exit 0 and a model
# digest. Its compile commands must not name LibTorch's include directories either.
#   -DSOURCE_DIR=... -DPREFIX=... -DWORK_DIR=... -DCXX=... -DLAUNCHER=...
cmake_minimum_required(VERSION 3.25)
file(REMOVE_RECURSE "${WORK_DIR}")
set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/examples/consumer" -B "${WORK_DIR}"
    -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCMAKE_CXX_COMPILER=${CXX}"
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
if(LAUNCHER)
  list(APPEND configure "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
execute_process(COMMAND ${configure} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring examples/consumer failed:\n${out}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building examples/consumer failed:\n${out}")
endif()
file(READ "${WORK_DIR}/compile_commands.json" commands)
if(commands MATCHES "/torch/csrc|-I[^ ]*/torch")
  message(FATAL_ERROR "the consumer is compiled with LibTorch's include path:\n${commands}")
endif()
execute_process(COMMAND "${WORK_DIR}/consumer" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer exited with ${rc}:\n${out}\n${err}")
endif()
if(NOT out MATCHES "round 2: 10 clients")
  message(FATAL_ERROR "consumer did not report its second round:\n${out}")
endif()
if(NOT out MATCHES "model sha256 [0-9a-f]+ \\([0-9]+ parameters\\)")
  message(FATAL_ERROR "consumer printed no model digest:\n${out}")
endif()
string(REGEX MATCH "model sha256 ([0-9a-f]+)" digest "${out}")
string(LENGTH "${CMAKE_MATCH_1}" length)
if(NOT length EQUAL 64)
  message(FATAL_ERROR "not a sha256 digest: ${CMAKE_MATCH_1}")
endif()
message(STATUS "${out}")
