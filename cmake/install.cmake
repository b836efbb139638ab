# Install rules: the library (libnattel.so.1 and libnattel.a), its public
# headers, the `nattel` tool, the flusher the library starts
# (libexec/nattel/), a pkg-config file, a CMake package, the man page and
# the bash completion.
# `make install PREFIX=/some/where` sets CMAKE_INSTALL_PREFIX at configure
# time, so the flusher path compiled in and the one installed agree (and
# the library also finds the flusher relative to its own location).
# `make uninstall` removes every file listed in install_manifest.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# `make uninstall` removes the directories an install created, and only
# those: the first install rule records every destination directory (and
# its parents under the prefix) that did not exist yet, adding to what an
# earlier install recorded.
set(NATTEL_INSTALL_DIRS
    ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_INCLUDEDIR}/nattel
    ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
    ${CMAKE_INSTALL_FULL_LIBDIR}/cmake/nattel
    ${CMAKE_INSTALL_FULL_LIBEXECDIR}/nattel ${CMAKE_INSTALL_FULL_MANDIR}/man1
    ${CMAKE_INSTALL_FULL_DATADIR}/bash-completion/completions)

install(CODE "set(NATTEL_RECORD \"${CMAKE_BINARY_DIR}/install_created_dirs.txt\")
set(NATTEL_PREFIX \"${CMAKE_INSTALL_PREFIX}\")
set(NATTEL_DIRS \"${NATTEL_INSTALL_DIRS}\")
include(\"${CMAKE_SOURCE_DIR}/cmake/record_dirs.cmake\")")

# nattel::nattel is the shared library (what hosts should link: it exports
# the public API alone); nattel::nattel_static the archive.
set_target_properties(nattel_shared PROPERTIES EXPORT_NAME nattel)
set_target_properties(nattel PROPERTIES EXPORT_NAME nattel_static)
install(TARGETS nattel_shared nattel EXPORT nattelTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/nattel
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS nattel_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The bash completion, made by the tool from its own command and option
# tables each time the tool is built, so it never lags behind them.
add_custom_command(TARGET nattel_tool POST_BUILD VERBATIM
  COMMAND sh -c "\"$1\" completion bash >\"$2\"" sh
          $<TARGET_FILE:nattel_tool> ${CMAKE_BINARY_DIR}/nattel.bash-completion)
install(FILES ${CMAKE_BINARY_DIR}/nattel.bash-completion
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME nattel)

# The flusher goes where NATTEL_FLUSHER_INSTALL_PATH (compiled into the
# library) expects it, which is also ../libexec/nattel/ of the library's
# and the tool's directories.
install(TARGETS nattel_flusher RUNTIME
        DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/nattel)

file(RELATIVE_PATH NATTEL_PC_TO_PREFIX
     /nattel-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /nattel-prefix)
string(REGEX REPLACE "/$" "" NATTEL_PC_TO_PREFIX "${NATTEL_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/nattel.pc.in
               ${CMAKE_BINARY_DIR}/nattel.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/nattel.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# find_package(nattel 1 CONFIG REQUIRED): any 1.x satisfies a request for
# 1 (SameMajorVersion), as the soname does.
set(NATTEL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nattel)
install(EXPORT nattelTargets NAMESPACE nattel:: DESTINATION ${NATTEL_CMAKE_DIR})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/nattelConfig.cmake.in
  ${CMAKE_BINARY_DIR}/nattelConfig.cmake INSTALL_DESTINATION ${NATTEL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/nattelConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/nattelConfig.cmake
              ${CMAKE_BINARY_DIR}/nattelConfigVersion.cmake
        DESTINATION ${NATTEL_CMAKE_DIR})

install(FILES ${CMAKE_SOURCE_DIR}/docs/nattel.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
