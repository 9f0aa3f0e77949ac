// SPDX-License-Identifier: Apache-2.0
// Classic BPF for the terms that read the packet or the slots the prologue
// filled: relations (SPEC 1), addresses and ports, emitted into the classic
// compiler's program after its prologue has parsed the packet.
#pragma once

#include <cstdint>

#include "filter/classic_assembler.hpp"
#include "wgcap/filter_ast.hpp"

namespace wgcap::classic {

// The prologue's scratch slots a relation reads, and the first slot it may
// use for intermediate values (up to BPF_MEMWORDS).
struct RelationSlots {
  std::uint32_t family;
  std::uint32_t protocol;
  std::uint32_t transport; // transport header offset; 0 when not located
  std::uint32_t first_free;
  Label reject; // a `ret #0`: the packet is dropped whatever surrounds the relation
};

// Jumps to `yes` or `no`. A load past the packet or a division by zero at run
// time ends the program with 0 (the classic machine's own rule), which is
// libpcap's and SPEC 1's "reject the whole packet". False when the
// arithmetic needs more scratch slots than are free.
bool EmitRelation(Assembler& a, const FilterExpression& expression, const Term& relation,
                  const RelationSlots& slots, Label yes, Label no);

// A Host or Net term: the family in `family_slot`, then the address words
// straight from the packet.
void EmitAddress(Assembler& a, const Term& term, std::uint32_t family_slot, Label yes, Label no);

// The prologue's slots a Port or PortRange term reads.
struct PortSlots {
  std::uint32_t has_ports; // 1 when the ports were read
  std::uint32_t sport;
  std::uint32_t dport;
};

// A Port or PortRange term: false for a packet without ports.
void EmitPort(Assembler& a, const Term& term, const PortSlots& slots, Label yes, Label no);

} // namespace wgcap::classic
