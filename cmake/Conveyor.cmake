# conveyor_subsystem(NAME name [DEPS target...])
#
# Declares the static library conveyor_<name> from src/*.cc with public headers in include/,
# and, when tests are on, the GoogleTest executable conveyor_<name>_tests from tests/*_test.cc.
# Sources are globbed (CONFIGURE_DEPENDS) so adding a file needs no CMake edit.
function(conveyor_subsystem)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;TEST_DEPS" ${ARGN})
  set(lib conveyor_${ARG_NAME})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cc)
  if(srcs)
    add_library(${lib} STATIC ${srcs})
    target_include_directories(${lib} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                       PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(${lib} PUBLIC ${ARG_DEPS})
    target_compile_options(${lib} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  else()
    add_library(${lib} INTERFACE)
    target_include_directories(${lib} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${lib} INTERFACE ${ARG_DEPS})
  endif()
  if(CONVEYOR_BUILD_TESTS)
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/*_test.cc)
    if(tests)
      add_executable(${lib}_tests ${tests})
      target_link_libraries(${lib}_tests PRIVATE ${lib} ${ARG_TEST_DEPS} GTest::gtest GTest::gtest_main)
      target_include_directories(${lib}_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
      gtest_discover_tests(${lib}_tests DISCOVERY_TIMEOUT 60
                           PROPERTIES LABELS ${ARG_NAME})
    endif()
  endif()
endfunction()
