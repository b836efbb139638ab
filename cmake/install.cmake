# Install rules: the library (static), its public headers, the `nattel`
# tool, the flusher the library starts (libexec/nattel/), a pkg-config
# file and the man page. `make install PREFIX=/some/where` sets
# CMAKE_INSTALL_PREFIX at configure time, so paths compiled in (the
# flusher's) and the ones installed agree.
include(GNUInstallDirs)

install(TARGETS nattel ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/nattel
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS nattel_tool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The flusher goes where NATTEL_FLUSHER_INSTALL_PATH (compiled into the
# library) expects it.
install(TARGETS nattel_flusher RUNTIME
        DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/nattel)

file(RELATIVE_PATH NATTEL_PC_TO_PREFIX
     /nattel-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /nattel-prefix)
string(REGEX REPLACE "/$" "" NATTEL_PC_TO_PREFIX "${NATTEL_PC_TO_PREFIX}")
configure_file(${CMAKE_SOURCE_DIR}/cmake/nattel.pc.in
               ${CMAKE_BINARY_DIR}/nattel.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/nattel.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(FILES ${CMAKE_SOURCE_DIR}/docs/nattel.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
