# SPDX-License-Identifier: Apache-2.0
# `cmake --install`: the agent and its man page, the one static library, the
# public headers, a pkg-config file and a CMake config package. The bpftool skeleton is compiled into libwgcap.a
# (bpf_program.cpp embeds the BPF object), so no header or object of the
# kernel side is installed and nothing is loaded from disk at run time.
include(GNUInstallDirs)

install(TARGETS wgcap_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/wgcap.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(TARGETS wgcap ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# include/wgcap holds only public headers (the private ones live beside
# their sources in userspace/; the kernel/user ABI is in bpf/).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/wgcap
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

# The prefix as seen from the .pc file's directory, so the file stays right
# when the tree is installed elsewhere with --prefix or DESTDIR.
file(RELATIVE_PATH WGCAP_PC_PREFIX_FROM_PCDIR
  "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" WGCAP_PC_PREFIX_FROM_PCDIR "${WGCAP_PC_PREFIX_FROM_PCDIR}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/wgcap.pc.in
  ${CMAKE_CURRENT_BINARY_DIR}/wgcap.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wgcap.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The same for CMake: find_package(wgcap) gives wgcap::wgcap. Written by
# hand rather than exported: libwgcap is one archive made of object
# libraries, which an export set would list as targets of their own.
include(CMakePackageConfigHelpers)
set(WGCAP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/wgcap)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/wgcapConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/wgcapConfig.cmake INSTALL_DESTINATION ${WGCAP_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/wgcapConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/wgcapConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/wgcapConfigVersion.cmake DESTINATION ${WGCAP_CMAKE_DIR})
