# SPDX-License-Identifier: Apache-2.0
# WGCAP_STATIC_DEPS: link libbpf, libelf and zlib from their static archives
# and the C++ runtime statically, so the wgcap binary needs only glibc and can
# be copied as one file into a CI VM or a slim container. glibc itself stays
# shared (a static glibc warns about getaddrinfo/NSS and is not what the
# distributions support).
#
# Debian's libbpf-dev, libelf-dev and zlib1g-dev ship libbpf.a, libelf.a and
# libz.a; Debian 12's libelf (elfutils 0.188) needs only zlib.

find_library(WGCAP_LIBBPF_A NAMES libbpf.a REQUIRED)
find_library(WGCAP_LIBELF_A NAMES libelf.a REQUIRED)
find_library(WGCAP_LIBZ_A NAMES libz.a REQUIRED)

# Every target that links libbpf (the library, the skeleton, the tests) does
# so through PkgConfig::LIBBPF; pointing it at the archives here switches
# them all. Order matters for static linking: libbpf needs libelf, which
# needs zlib.
set_property(TARGET PkgConfig::LIBBPF PROPERTY INTERFACE_LINK_LIBRARIES
  ${WGCAP_LIBBPF_A} ${WGCAP_LIBELF_A} ${WGCAP_LIBZ_A})
