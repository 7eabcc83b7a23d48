# Host-side dependencies (never used by transport/ or SerialDext/ sources).
# Each one names the Debian package that provides it when it is missing;
# test-harness/scripts/deps.sh installs them all.
find_package(PkgConfig)

function(usbserial_missing what package)
  message(FATAL_ERROR "${what} not found. On Debian: apt-get install ${package} "
                      "(or run test-harness/scripts/deps.sh)")
endfunction()

find_package(Threads REQUIRED)

find_package(Boost 1.74 COMPONENTS program_options)
if(NOT Boost_FOUND)
  usbserial_missing("Boost (asio, program_options, crc)" "libboost-dev libboost-program-options-dev")
endif()

find_package(GTest)
if(NOT GTest_FOUND)
  usbserial_missing("GoogleTest/GoogleMock" "libgtest-dev libgmock-dev")
endif()
include(GoogleTest)

if(USBSERIAL_BENCHMARKS AND NOT APPLE)  # the benchmarks run on hostkit (Linux)
  find_package(benchmark)
  if(NOT benchmark_FOUND)
    usbserial_missing("Google Benchmark" "libbenchmark-dev")
  endif()
endif()

if(NOT PKG_CONFIG_FOUND)
  usbserial_missing("pkg-config" "pkg-config")
endif()
pkg_check_modules(PLIST IMPORTED_TARGET libplist-2.0)
if(NOT PLIST_FOUND)
  usbserial_missing("libplist" "libplist-dev")
endif()
# libplist 2.3 changed plist_from_memory and the buffer frees (tools/common/plist_compat.hpp).
if(PLIST_VERSION VERSION_GREATER_EQUAL 2.3)
  set_property(TARGET PkgConfig::PLIST APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS
               USBSERIAL_LIBPLIST_2_3)
endif()
