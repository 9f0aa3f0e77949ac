# SPDX-License-Identifier: Apache-2.0
# `cmake --install`: the agent and its man page, the one static library, the
# public headers and a pkg-config file. The bpftool skeleton is compiled into libwgcap.a
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
