// SPDX-License-Identifier: Apache-2.0
// The eBPF code of a `peer KEY` term (SPEC 10): an LPM trie lookup of the
// packet's inner address, then the peer's key compared.
#pragma once

#include <string>

#include "filter/ebpf_layout.hpp"
#include "wgcap/filter_ast.hpp"

namespace wgcap::ebpf {

// Jumps to `yes` when the packet's peer (looked up in wgcap_peers, see
// ebpf_filter.hpp) is the term's key, else to `no` (no peer, a non-IP
// packet). Needs the parse's family and header slots (ParseNeeds::addresses).
void EmitPeer(Emitter& e, const Term& term, const EbpfFilterInputs& in, Label yes, Label no);

// Why `expr` cannot be generated with `in` ("" when it can): a `peer` term
// not resolved to a key, or no peers map to look in.
std::string PeerGenerationError(const FilterExpression& expr, const EbpfFilterInputs& in);

} // namespace wgcap::ebpf
