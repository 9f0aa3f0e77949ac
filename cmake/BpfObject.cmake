# SPDX-License-Identifier: Apache-2.0
# wgcap_bpf_skeleton(NAME SOURCE [DEPENDS headers...])
#
# Compiles bpf/NAME.bpf.c with clang for the BPF target and generates
# NAME.skel.h with bpftool; yields an INTERFACE target NAME_skel whose include
# directory holds the skeleton (in the style of libbpf-bootstrap's
# FindBpfObject.cmake). Header dependencies are listed so an edit rebuilds.

find_program(WGCAP_BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(WGCAP_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

# UAPI headers for asm/types.h live in the multiarch directory on Debian.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-multiarch
  OUTPUT_VARIABLE WGCAP_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT WGCAP_MULTIARCH)
  set(WGCAP_MULTIARCH "${CMAKE_SYSTEM_PROCESSOR}-linux-gnu")
endif()

function(wgcap_bpf_skeleton name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/bpf)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  file(MAKE_DIRECTORY ${out_dir})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${WGCAP_BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86
            -Wall -Werror
            -I${PROJECT_SOURCE_DIR}/bpf
            -I/usr/include/${WGCAP_MULTIARCH}
            -c ${source} -o ${obj}.tmp
    # Strip DWARF but keep BTF: the skeleton embeds this object.
    COMMAND ${WGCAP_BPFTOOL} gen object ${obj} ${obj}.tmp
    COMMAND ${CMAKE_COMMAND} -E remove ${obj}.tmp
    DEPENDS ${source} ${ARG_DEPENDS}
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${WGCAP_BPFTOOL} gen skeleton ${obj} name ${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "bpftool skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${out_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
