// SPDX-License-Identifier: Apache-2.0
// Packet-data relations (`tcp[13] & 2 != 0`) in the generated filter:
// unsigned 32-bit arithmetic over constants, `len` and big-endian loads.
#pragma once

#include "filter/ebpf_layout.hpp"
#include "wgcap/filter_ast.hpp"

namespace wgcap::ebpf {

// What a relation needs parsed; false when its arithmetic is too deep for
// the stack temporaries (the generator then passes every packet).
bool RelationNeeds(const FilterExpression& expr, const Term& term, ParseNeeds& needs);

// Jumps to on_true / on_false (one may be Next()); a load past the packet's
// end or a division by zero jumps to reject_packet, whatever surrounds the
// relation.
void EmitRelation(Emitter& e, const FilterExpression& expr, const Term& term,
                  const EbpfFilterInputs& in, Label on_true, Label on_false, Label reject_packet);

} // namespace wgcap::ebpf
