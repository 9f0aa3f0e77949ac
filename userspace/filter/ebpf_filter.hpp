// SPDX-License-Identifier: Apache-2.0
// The filter expression as eBPF generated for it (SPEC section 2): straight-
// line code, forward jumps only, every packet read bounds-checked, so the
// restricted verifier (CAP_BPF + CAP_NET_ADMIN, no CAP_PERFMON) accepts it on
// every kernel from 5.10 on.
//
// The generated program is a whole BPF_PROG_TYPE_SCHED_CLS program (R1 is the
// struct __sk_buff *), attached to the hook itself. Its contract with the
// clang-built sample programs in bpf/ (bpf/README.md):
//  - it adds 1 to wgcap_counters[WGCAP_COUNTER_SEEN] (per-CPU array; the map
//    fd is an input, emitted as a BPF_PSEUDO_MAP_FD load);
//  - on a miss it returns TC_ACT_UNSPEC (-1, also TCX_NEXT);
//  - on a match it stores in skb->cb[WGCAP_CB_EXTENT] the number of network-
//    layer bytes the verdict read (the sample keeps at least these, so the
//    userspace Matcher decides on the same bytes), then tail-calls
//    wgcap_sample_programs[sample_index] (BPF_MAP_TYPE_PROG_ARRAY, fd an
//    input) and returns TC_ACT_UNSPEC if the tail call fails;
//  - a `peer KEY` term looks the packet's inner address (the source when
//    sample_index is WGCAP_PROG_SAMPLE_IN, the destination for _OUT) up in
//    the LPM trie wgcap_peers (wgcap_abi.h; fd an input) under skb->ifindex,
//    then under ifindex 0 (the routes for every interface), as
//    PeerDirectory::Lookup does, and compares the value with the key.
// The network-layer packet starts link_header bytes into the skb's data
// (14 on Ethernet and loopback, 0 on WireGuard, TUN and other L3 devices).
#pragma once

#include <linux/bpf.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "wgcap/filter_ast.hpp"

namespace wgcap {

struct EbpfFilterInputs {
  int counters_map_fd = -1;
  int sample_programs_map_fd = -1;
  unsigned sample_index = 0; // WGCAP_PROG_SAMPLE_IN or WGCAP_PROG_SAMPLE_OUT
  unsigned link_header = 0;
  // false: every packet read goes through bpf_skb_load_bytes, the path a
  // non-linear skb takes; the tests use it to run that path on
  // BPF_PROG_TEST_RUN's linear skbs.
  bool direct_access = true;
  int peers_map_fd = -1; // wgcap_peers (wgcap_abi.h); needed only by `peer` terms
};

struct EbpfFilter {
  std::vector<bpf_insn> instructions;
  bool exact = true; // false: the program matches every packet, the Matcher decides
  std::string note;  // why it is not exact
  // Not empty: the expression cannot be generated at all ("column N: ...";
  // an unresolved `peer` term, no peers map) and `instructions` is empty.
  std::string error;
  // Comments for the disassembly: the term whose code starts at an index.
  std::vector<std::pair<std::size_t, std::string>> comments;
};

EbpfFilter GenerateEbpfFilter(const FilterExpression& expression, const EbpfFilterInputs& inputs);

// One instruction a line, in bpftool's notation ("(61) r2 = *(u32 *)(r1 +76)"),
// with the expression's terms as comments, for `wgcap -d`.
std::string DisassembleEbpf(const std::vector<bpf_insn>& instructions);
// The same with the comments the generator recorded (the terms, the parse).
std::string DisassembleEbpf(const EbpfFilter& filter);

} // namespace wgcap
