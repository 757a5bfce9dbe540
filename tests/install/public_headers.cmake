# ctest (cmake -P): one translation unit including every installed header compiles with only the
# install prefix's include directory (and CAF's), -Wall -Wextra -Werror, and reads no header of
# LibTorch (torch/, ATen/, c10/, caffe2/; Debian puts ATen and c10 in /usr/include, so the
# preprocessor's list of the headers read is checked, not only the include path).
#   -DPREFIX=... -DINCLUDEDIR=... -DCXX=... -DCAF_INCLUDE_DIR=... -DIMPLICIT_DIRS=... -DWORK_DIR=...
cmake_minimum_required(VERSION 3.25)
set(root "${PREFIX}/${INCLUDEDIR}/fedactor")
file(GLOB_RECURSE headers RELATIVE "${root}" "${root}/*.hpp")
list(SORT headers)
list(LENGTH headers count)
if(count EQUAL 0)
  message(FATAL_ERROR "no headers under ${root}")
endif()
set(tu "// generated: every installed fedactor header\n")
foreach(header IN LISTS headers)
  string(APPEND tu "#include \"${header}\"\n")
endforeach()
file(MAKE_DIRECTORY "${WORK_DIR}")
file(WRITE "${WORK_DIR}/all_public_headers.cpp" "${tu}")

set(flags -std=c++17 -Wall -Wextra -Werror "-I${root}")
# CAF's directory is passed unless it is one the compiler searches anyway (-I /usr/include
# would turn CAF's system headers into user headers, with their warnings).
if(NOT CAF_INCLUDE_DIR IN_LIST IMPLICIT_DIRS)
  list(APPEND flags "-isystem${CAF_INCLUDE_DIR}")
endif()
execute_process(COMMAND "${CXX}" ${flags} -fsyntax-only "${WORK_DIR}/all_public_headers.cpp"
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the public headers do not compile on their own:\n${err}")
endif()
execute_process(COMMAND "${CXX}" ${flags} -M "${WORK_DIR}/all_public_headers.cpp"
                RESULT_VARIABLE rc OUTPUT_VARIABLE deps ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "listing the headers read failed:\n${err}")
endif()
string(REGEX MATCHALL "[^ \t\n\\\\]*/(torch|ATen|c10|caffe2)/[^ \t\n\\\\]*" torch_headers "${deps}")
if(torch_headers)
  list(REMOVE_DUPLICATES torch_headers)
  message(FATAL_ERROR "the public headers read LibTorch headers: ${torch_headers}")
endif()
message(STATUS "${count} public headers compile without LibTorch")
