# Every dependency comes from a Debian package; scripts/install-deps.sh installs them all.
# A missing one is a configure error that names the package to install.
find_package(PkgConfig REQUIRED)

macro(kiln_require_pkg prefix module debian_package)
  pkg_check_modules(${prefix} IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} not found: install the Debian package ${debian_package} "
                        "(scripts/install-deps.sh installs everything)")
  endif()
endmacro()

macro(kiln_require_package name debian_package)
  find_package(${name} ${ARGN} QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "${name} not found: install the Debian package ${debian_package} "
                        "(scripts/install-deps.sh installs everything)")
  endif()
endmacro()

kiln_require_package(yaml-cpp libyaml-cpp-dev)
kiln_require_package(nlohmann_json nlohmann-json3-dev)
kiln_require_package(CLI11 libcli11-dev)
kiln_require_package(fmt libfmt-dev)
kiln_require_package(CURL libcurl4-openssl-dev)
kiln_require_package(OpenSSL libssl-dev)
kiln_require_pkg(RE2 re2 libre2-dev)
kiln_require_pkg(LIBARCHIVE libarchive libarchive-dev)
kiln_require_pkg(ZSTD libzstd libzstd-dev)
kiln_require_package(ZLIB zlib1g-dev)
kiln_require_package(SQLite3 libsqlite3-dev)
# Boost.Beast and Boost.Asio (header-only): the API daemon's event-driven HTTP server.
find_package(Boost 1.74 CONFIG)
if(NOT Boost_FOUND)
  message(FATAL_ERROR "Boost headers not found: install the Debian package libboost-dev "
                      "(scripts/install-deps.sh installs everything)")
endif()
# Howard Hinnant's date/tz: IANA time zones from the system's tzdata for pipeline schedules.
kiln_require_package(date libhowardhinnant-date-dev)
find_package(Threads REQUIRED)

# yaml-cpp 0.7 in Debian exports the plain target name.
if(TARGET yaml-cpp::yaml-cpp)
  set(KILN_YAML_TARGET yaml-cpp::yaml-cpp)
else()
  set(KILN_YAML_TARGET yaml-cpp)
endif()
