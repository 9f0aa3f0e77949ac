// SPDX-License-Identifier: Apache-2.0
// AST -> eBPF (SPEC section 2, userspace/filter/ebpf_filter.hpp): count the
// packet, parse what the terms need (ebpf_packet_walk.cpp), then one block of
// code per term in source order, `and` / `or` / `not` only choosing where each
// block's true and false exits jump. Every jump goes forward, so the program
// is straight-line and the verifier walks each path once.
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "filter/ebpf_layout.hpp"
#include "filter/ebpf_peer.hpp"
#include "filter/ebpf_relation.hpp"
#include "wgcap/packet_parse.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

using ebpf::Emitter;
using ebpf::Label;
using namespace ebpf;

// The term's text for the disassembly.
std::string TermText(const FilterExpression& expr, const FilterNode& node) {
  if (node.term.kind != TermKind::Relation) {
    return ToString(node.term);
  }
  FilterExpression one;
  one.nodes = {node};
  one.values = expr.values;
  one.root = 0;
  return ToString(one);
}

class Generator {
public:
  Generator(const FilterExpression& expr, const EbpfFilterInputs& in) : expr_(expr), in_(in) {}

  EbpfFilter Generate() {
    EbpfFilter out;
    if (out.error = PeerGenerationError(expr_, in_); !out.error.empty()) {
      return out;
    }
    ParseNeeds needs;
    if (!expr_.empty() && !Needs(expr_.root, needs)) {
      out.exact = false;
      out.note = "a relation's arithmetic nests too deep for the kernel filter";
    }
    if (needs.chain || needs.ports || needs.transport) {
      needs.protocol = true;
    }
    if (needs.protocol) {
      needs.ip = true;
    }
    has_relations_ = needs.length && HasRelation(expr_.root);
    e_.Mov64Reg(kSkb, BPF_REG_1);
    EmitCountSeen();
    const Label reject = e_.NewLabel();
    reject_label_ = reject;
    if (out.exact && !expr_.empty()) {
      EmitParse(e_, needs, in_);
      if (has_relations_ && !needs.ip) {
        e_.StoreImm(BPF_DW, BPF_REG_10, kExtentSlot, 0);
      }
      Cond(expr_.root, Label::Next(), reject);
      e_.Comment("match: the extent for the sample, then the sample program");
      if (needs.ip || has_relations_) {
        e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kExtentSlot);
        StoreExtent(BPF_REG_1, -1);
      } else {
        StoreExtent(BPF_REG_0, 0);
      }
    } else {
      e_.Comment("match every packet");
      StoreExtent(BPF_REG_0, 0);
    }
    e_.Mov64Reg(BPF_REG_1, kSkb);
    e_.LoadMapFd(BPF_REG_2, in_.sample_programs_map_fd);
    e_.Mov64Imm(BPF_REG_3, static_cast<std::int32_t>(in_.sample_index));
    e_.Call(kHelperTailCall);
    e_.Bind(reject);
    e_.Mov64Imm(BPF_REG_0, -1); // TC_ACT_UNSPEC: the packet goes on unchanged
    e_.Exit();
    if (!e_.Finish(out.instructions, out.comments)) {
      const FilterExpression none;
      EbpfFilter all = Generator(none, in_).Generate();
      all.exact = false;
      all.note = "the expression is too large for the kernel filter";
      return all;
    }
    return out;
  }

private:
  bool Needs(int index, ParseNeeds& needs) {
    const FilterNode& n = expr_.node(index);
    if (n.kind != FilterNode::Kind::Term) {
      const bool left = Needs(n.left, needs);
      return (n.right < 0 || Needs(n.right, needs)) && left;
    }
    const Term& t = n.term;
    switch (t.kind) {
    case TermKind::Host:
    case TermKind::Net:
      needs.ip = needs.addresses = true;
      break;
    case TermKind::Family:
      needs.ip = true;
      break;
    case TermKind::Port:
    case TermKind::PortRange:
      needs.ports = true;
      break;
    case TermKind::Protocol:
      needs.protocol = true;
      needs.chain = needs.chain || ExtensionHeaderBit(t.protocol) != 0;
      break;
    case TermKind::ProtoChain:
      needs.chain = true;
      break;
    case TermKind::Less:
    case TermKind::Greater:
      needs.length = true;
      break;
    case TermKind::Relation:
      return RelationNeeds(expr_, t, needs);
    case TermKind::Peer: // the inner address, for the LPM lookup
      needs.ip = needs.addresses = true;
      break;
    }
    return true;
  }

  bool HasRelation(int index) const {
    const FilterNode& n = expr_.node(index);
    if (n.kind == FilterNode::Kind::Term) {
      return n.term.kind == TermKind::Relation;
    }
    return HasRelation(n.left) || (n.right >= 0 && HasRelation(n.right));
  }

  // skb->cb[WGCAP_CB_EXTENT] = reg, or = constant when it is not negative.
  // From a register: 5.10 refuses BPF_ST into the context.
  void StoreExtent(int reg, std::int32_t constant) {
    if (constant >= 0) {
      e_.Mov64Imm(reg, constant);
    }
    e_.Store(BPF_W, kSkb, offsetof(__sk_buff, cb) + 4 * WGCAP_CB_EXTENT, reg);
  }

  // wgcap_counters[WGCAP_COUNTER_SEEN] += 1 (per CPU: no atomic needed).
  void EmitCountSeen() {
    const Label absent = e_.NewLabel();
    e_.Comment("count the packet: wgcap_counters[WGCAP_COUNTER_SEEN] += 1");
    e_.StoreImm(BPF_DW, BPF_REG_10, kKeySlot, WGCAP_COUNTER_SEEN); // whole slot: see EmitCopyConst
    e_.LoadMapFd(BPF_REG_1, in_.counters_map_fd);
    e_.Mov64Reg(BPF_REG_2, BPF_REG_10);
    e_.Alu64Imm(BPF_ADD, BPF_REG_2, kKeySlot);
    e_.Call(kHelperMapLookup);
    e_.JumpImm(BPF_JEQ, true, BPF_REG_0, 0, absent);
    e_.Load(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
    e_.Alu64Imm(BPF_ADD, BPF_REG_1, 1);
    e_.Store(BPF_DW, BPF_REG_0, 0, BPF_REG_1);
    e_.Bind(absent);
  }

  // Code for node `index` that goes to on_true or on_false; at least one of
  // them is Next() (falls through), so no code is ever unreachable.
  void Cond(int index, Label on_true, Label on_false) {
    const FilterNode& n = expr_.node(index);
    switch (n.kind) {
    case FilterNode::Kind::Not:
      Cond(n.left, on_false, on_true);
      return;
    case FilterNode::Kind::And: {
      const Label f = on_false.next() ? e_.NewLabel() : on_false;
      Cond(n.left, Label::Next(), f);
      Cond(n.right, on_true, on_false);
      e_.Bind(on_false.next() ? f : Label::Next());
      return;
    }
    case FilterNode::Kind::Or: {
      const Label t = on_true.next() ? e_.NewLabel() : on_true;
      Cond(n.left, t, Label::Next());
      Cond(n.right, on_true, on_false);
      e_.Bind(on_true.next() ? t : Label::Next());
      return;
    }
    case FilterNode::Kind::Term:
      e_.Comment(TermText(expr_, n));
      TermCode(n.term, on_true, on_false);
      return;
    }
  }

  void TermCode(const Term& t, Label on_true, Label on_false) {
    const Label end = e_.NewLabel();
    const Label yes = on_true.next() ? end : on_true;
    const Label no = on_false.next() ? end : on_false;
    switch (t.kind) {
    case TermKind::Family:
      e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
      e_.Branch(BPF_JEQ, true, BPF_REG_1, t.family, on_true, on_false);
      break;
    case TermKind::Protocol:
    case TermKind::ProtoChain: {
      const bool chain = t.kind == TermKind::ProtoChain;
      e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, chain ? kChainSlot : kProtocolSlot);
      e_.JumpImm(BPF_JEQ, true, BPF_REG_1, t.protocol, yes);
      if (const std::uint8_t bit = ExtensionHeaderBit(t.protocol); bit != 0) {
        e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kExtensionsSlot);
        e_.JumpImm(BPF_JSET, true, BPF_REG_1, bit, yes);
      }
      e_.Goto(no);
      break;
    }
    case TermKind::Port:
    case TermKind::PortRange:
      if (t.endpoint != Endpoint::Dst) {
        PortIn(kSrcPortSlot, t, yes);
      }
      if (t.endpoint != Endpoint::Src) {
        PortIn(kDstPortSlot, t, yes);
      }
      e_.Goto(no);
      break;
    case TermKind::Host:
    case TermKind::Net:
      Address(t, yes, no);
      break;
    case TermKind::Less:
      e_.Branch(BPF_JLE, false, kLength, static_cast<std::int32_t>(t.length), on_true, on_false);
      break;
    case TermKind::Greater:
      e_.Branch(BPF_JGE, false, kLength, static_cast<std::int32_t>(t.length), on_true, on_false);
      break;
    case TermKind::Relation:
      EmitRelation(e_, expr_, t, in_, on_true, on_false, reject_label_);
      break;
    case TermKind::Peer:
      EmitPeer(e_, t, in_, yes, no);
      break;
    }
    e_.Bind(end);
  }

  void PortIn(std::int16_t slot, const Term& t, Label yes) {
    e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, slot);
    if (t.port_low == t.port_high) {
      e_.JumpImm(BPF_JEQ, true, BPF_REG_1, t.port_low, yes);
      return;
    }
    const Label outside = e_.NewLabel();
    e_.JumpImm(BPF_JLT, true, BPF_REG_1, t.port_low, outside);
    e_.JumpImm(BPF_JLE, true, BPF_REG_1, t.port_high, yes);
    e_.Bind(outside);
  }

  // The family, then each endpoint's address words under the prefix's mask,
  // as they lie in memory (little-endian loads of network-order bytes).
  void Address(const Term& t, Label yes, Label no) {
    const std::uint8_t family = t.prefix.address.family;
    e_.Load(BPF_DW, BPF_REG_1, BPF_REG_10, kFamilySlot);
    if (t.prefix.length == 0) {
      e_.Branch(BPF_JEQ, true, BPF_REG_1, family, yes, no);
      return;
    }
    e_.JumpImm(BPF_JNE, true, BPF_REG_1, family, no);
    const int words = family == 4 ? 1 : 4;
    const std::int16_t src = kHeaderSlot + (family == 4 ? 12 : 8);
    const std::int16_t dst = kHeaderSlot + (family == 4 ? 16 : 24);
    std::vector<std::int16_t> endpoints;
    if (t.endpoint != Endpoint::Dst) {
      endpoints.push_back(src);
    }
    if (t.endpoint != Endpoint::Src) {
      endpoints.push_back(dst);
    }
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      const bool last = i + 1 == endpoints.size();
      const Label differs = last ? no : e_.NewLabel();
      for (int w = 0; w < words; ++w) {
        const int bits = std::clamp(static_cast<int>(t.prefix.length) - w * 32, 0, 32);
        if (bits == 0) {
          continue;
        }
        const std::uint32_t mask_host = bits == 32 ? ~0u : ~0u << (32 - bits);
        const std::uint32_t mask = htonl(mask_host);
        std::uint32_t word;
        std::memcpy(&word, &t.prefix.address.bytes[static_cast<std::size_t>(w) * 4], 4);
        e_.Load(BPF_W, BPF_REG_1, BPF_REG_10, static_cast<std::int16_t>(endpoints[i] + 4 * w));
        if (bits != 32) {
          e_.Alu32Imm(BPF_AND, BPF_REG_1, static_cast<std::int32_t>(mask));
        }
        e_.JumpImm(BPF_JNE, false, BPF_REG_1, static_cast<std::int32_t>(word & mask), differs);
      }
      e_.Goto(yes);
      e_.Bind(last ? Label::Next() : differs);
    }
  }

  const FilterExpression& expr_;
  const EbpfFilterInputs& in_;
  Emitter e_;
  bool has_relations_ = false;
  Label reject_label_; // a load past the end, a division by zero
};

} // namespace

EbpfFilter GenerateEbpfFilter(const FilterExpression& expression, const EbpfFilterInputs& inputs) {
  return Generator(expression, inputs).Generate();
}

} // namespace wgcap
