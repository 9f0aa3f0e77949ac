// SPDX-License-Identifier: Apache-2.0
// AST → classic BPF. A prologue parses the packet once into scratch memory
// (family, protocol, ports), reproducing packet_parse.cpp rule for rule with
// explicit bounds checks (a classic load past the end would reject the whole
// packet, which is not what "a term whose field is absent is false" means);
// the expression then compiles to jumps between true and false labels.
#include <string>

#include "filter/classic_assembler.hpp"
#include "filter/classic_filter.hpp"
#include "filter/classic_relation.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

using classic::Assembler;
using classic::Label;

// Scratch memory slots.
// kExt: ExtensionHeaderBit of each header type the walk read; kChain: the
// last Next Header of the chain (ParsedPacket::extensions, chain_protocol).
enum Slot : std::uint32_t {
  kFamily,
  kProto,
  kHasPorts,
  kSport,
  kDport,
  kOffset,
  kNext,
  kExt,
  kChain,
  kTrans, // relations: the transport header's offset, 0 when not located
  kFirstFree
};
constexpr std::uint32_t kNoProtocol = 256; // never equals a protocol number
constexpr const char* kPeerNote =
    "classic BPF cannot look up WireGuard peers: the socket filter passes every packet a `peer` "
    "term could admit and the userspace Matcher decides";

constexpr std::uint16_t Code(int c) {
  return static_cast<std::uint16_t>(c);
}

class ClassicCompiler {
public:
  ClassicCompiler(const FilterExpression& expr, std::uint32_t snaplen)
      : expr_(expr), snaplen_(snaplen) {}

  ClassicProgram Compile() {
    ClassicProgram program;
    if (expr_.empty()) {
      program.instructions.push_back(sock_filter{Code(BPF_RET | BPF_K), 0, 0, snaplen_});
      return program;
    }
    const Label eval = a_.NewLabel();
    const Label accept = a_.NewLabel();
    reject_ = a_.NewLabel();
    const Label reject = reject_;
    for (const ValueNode& v : expr_.values) { // relations' transport loads read kTrans
      relation_transport_ = relation_transport_ || v.base == LoadBase::Transport;
    }
    transport_ = relation_transport_;
    ScanTerms(expr_.root);
    if (peer_terms_ && relations_) {
      // A relation reading past the packet drops it wherever it runs, and a
      // guessed peer term changes what runs: only passing all is safe.
      return PassAll(std::string(kPeerNote) + " (with packet-data relations, every packet)");
    }
    Prologue(eval, transport_);
    a_.Bind(eval);
    Node(expr_.root, accept, reject);
    a_.Bind(accept);
    a_.Emit(Code(BPF_RET | BPF_K), snaplen_);
    a_.Bind(reject);
    a_.Emit(Code(BPF_RET | BPF_K), 0);
    if (!exact_ || !a_.Finish(program.instructions, kClassicMaxInstructions)) {
      return PassAll("the expression needs more than " +
                     (exact_ ? std::to_string(kClassicMaxInstructions) + " classic BPF instructions"
                             : std::string("the 16 scratch slots of classic BPF")) +
                     ": the socket filter passes every packet and the userspace Matcher decides");
    }
    if (peer_terms_) { // still a filter, of a superset: see TermKind::Peer
      program.exact = false;
      program.note = kPeerNote;
    }
    return program;
  }

private:
  ClassicProgram PassAll(std::string note) const {
    ClassicProgram program;
    program.exact = false;
    program.note = std::move(note);
    program.instructions = {sock_filter{Code(BPF_RET | BPF_K), 0, 0, snaplen_}};
    return program;
  }

  // What the terms read: the protocol or ports (`transport_`), the extension
  // bits (`proto N` of an extension type, `protochain`), the IPv4 AH walk
  // (`protochain`). The prologue parses nothing else.
  void ScanTerms(int index) {
    const FilterNode& n = expr_.node(index);
    if (n.kind == FilterNode::Kind::Term) {
      const TermKind k = n.term.kind;
      transport_ = transport_ || k == TermKind::Protocol || k == TermKind::ProtoChain ||
                   k == TermKind::Port || k == TermKind::PortRange;

      chain_ = chain_ || k == TermKind::ProtoChain;
      peer_terms_ = peer_terms_ || k == TermKind::Peer;
      relations_ = relations_ || k == TermKind::Relation;
      ext_bits_ = ext_bits_ || chain_ ||
                  (k == TermKind::Protocol && ExtensionHeaderBit(n.term.protocol) != 0);
      return;
    }
    ScanTerms(n.left);
    if (n.right >= 0) {
      ScanTerms(n.right);
    }
  }

  // --- small emitters -------------------------------------------------------
  void LoadImm(std::uint32_t k) { a_.Emit(Code(BPF_LD | BPF_IMM), k); }
  void LoadLen() { a_.Emit(Code(BPF_LD | BPF_W | BPF_LEN), 0); }
  void LoadMem(Slot s) { a_.Emit(Code(BPF_LD | BPF_MEM), s); }
  void LoadXMem(Slot s) { a_.Emit(Code(BPF_LDX | BPF_MEM), s); }
  void Store(Slot s) { a_.Emit(Code(BPF_ST), s); }
  void LoadAbs(int size, std::uint32_t k) { a_.Emit(Code(BPF_LD | size | BPF_ABS), k); }
  void LoadInd(int size, std::uint32_t k) { a_.Emit(Code(BPF_LD | size | BPF_IND), k); }
  void Alu(int op, std::uint32_t k) { a_.Emit(Code(BPF_ALU | op | BPF_K), k); }
  void Tax() { a_.Emit(Code(BPF_MISC | BPF_TAX), 0); }
  void Txa() { a_.Emit(Code(BPF_MISC | BPF_TXA), 0); }
  void Jeq(std::uint32_t k, Label t, Label f) { a_.Jump(Code(BPF_JMP | BPF_JEQ | BPF_K), k, t, f); }
  void Jge(std::uint32_t k, Label t, Label f) { a_.Jump(Code(BPF_JMP | BPF_JGE | BPF_K), k, t, f); }
  void Jgt(std::uint32_t k, Label t, Label f) { a_.Jump(Code(BPF_JMP | BPF_JGT | BPF_K), k, t, f); }
  void JgeX(Label t, Label f) { a_.Jump(Code(BPF_JMP | BPF_JGE | BPF_X), 0, t, f); }
  void Jset(std::uint32_t k, Label t, Label f) {
    a_.Jump(Code(BPF_JMP | BPF_JSET | BPF_K), k, t, f);
  }
  // Continues when offset slot + `bytes` <= packet length, else goes to `short_packet`.
  void RequireFromOffset(std::uint32_t bytes, Label short_packet) {
    LoadMem(kOffset);
    Alu(BPF_ADD, bytes);
    Tax();
    LoadLen();
    const Label ok = a_.NewLabel();
    JgeX(ok, short_packet);
    a_.Bind(ok);
  }

  // Jumps to `yes` when A holds TCP, UDP or SCTP, else to `no`.
  void IfPortProtocol(Label yes, Label no) {
    const Label n1 = a_.NewLabel();
    const Label n2 = a_.NewLabel();
    Jeq(kProtoTcp, yes, n1);
    a_.Bind(n1);
    Jeq(kProtoUdp, yes, n2);
    a_.Bind(n2);
    Jeq(kProtoSctp, yes, no);
  }

  // --- the parse ----------------------------------------------------------
  void Prologue(Label done, bool transport) {
    // Every slot is written before any path can read it, as the kernel's
    // classic checker demands.
    LoadImm(0);
    for (Slot s : {kFamily, kHasPorts, kSport, kDport, kOffset, kNext, kExt, kTrans}) {
      Store(s);
    }
    LoadImm(kNoProtocol);
    Store(kProto);
    Store(kChain);
    LoadLen();
    const Label nonempty = a_.NewLabel();
    Jeq(0, done, nonempty);
    a_.Bind(nonempty);
    LoadAbs(BPF_B, 0);
    Alu(BPF_RSH, 4);
    const Label v4 = a_.NewLabel();
    const Label not4 = a_.NewLabel();
    const Label v6 = a_.NewLabel();
    Jeq(4, v4, not4);
    a_.Bind(not4);
    Jeq(6, v6, done);
    a_.Bind(v4);
    Ipv4(done, transport);
    a_.Bind(v6);
    Ipv6(done, transport);
  }

  void Ipv4(Label done, bool transport) {
    LoadLen();
    Jge(20, a_.AfterNext(), done);
    a_.Emit(Code(BPF_LDX | BPF_B | BPF_MSH), 0); // X = IHL * 4
    Txa();
    Jge(20, a_.AfterNext(), done);
    LoadLen();
    JgeX(a_.AfterNext(), done);
    LoadImm(4);
    Store(kFamily);
    if (!transport) {
      a_.Goto(done);
      return;
    }
    LoadAbs(BPF_B, 9);
    Store(kProto);
    if (chain_) {
      Store(kChain);
    }
    if (relation_transport_) { // the first fragment's transport header, at IHL * 4
      const Label later = a_.NewLabel();
      LoadAbs(BPF_H, 6);
      Jset(0x1fff, later, classic::kNext);
      Txa();
      Store(kTrans);
      a_.Bind(later);
      LoadMem(kProto);
    }
    const Label ports = a_.NewLabel();
    const Label no_ports = chain_ ? a_.NewLabel() : done;
    IfPortProtocol(ports, no_ports);
    if (chain_) {
      a_.Bind(no_ports);
      Ipv4Chain(done);
    }
    a_.Bind(ports);
    LoadAbs(BPF_H, 6);
    Jset(0x1fff, done, a_.AfterNext()); // a later fragment has no ports
    Txa();                              // X still holds IHL * 4
    Store(kOffset);
    RequireFromOffset(4, done);
    LoadXMem(kOffset);
    ReadPorts(done);
  }

  // packet_parse.cpp's WalkIpv4Ah: AH headers behind the IPv4 header (X
  // holds IHL * 4), at most 8, in the first fragment; A and kChain hold the
  // protocol.
  void Ipv4Chain(Label done) {
    Jeq(kProtoAh, classic::kNext, done);
    MarkExtension(kProtoAh);
    LoadAbs(BPF_H, 6);
    Jset(0x1fff, done, a_.AfterNext());
    Txa();
    Store(kOffset);
    for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
      LoadMem(kChain);
      Jeq(kProtoAh, classic::kNext, done);
      Advance(done, 2, 2, kChain);
    }
    a_.Goto(done);
  }

  // kExt |= ExtensionHeaderBit(type); clobbers A.
  void MarkExtension(std::uint8_t type) {
    LoadMem(kExt);
    Alu(BPF_OR, ExtensionHeaderBit(type));
    Store(kExt);
  }

  void ReadPorts(Label done) {
    LoadInd(BPF_H, 0);
    Store(kSport);
    LoadInd(BPF_H, 2);
    Store(kDport);
    LoadImm(1);
    Store(kHasPorts);
    a_.Goto(done);
  }

  void Ipv6(Label done, bool transport) {
    LoadLen();
    Jge(40, a_.AfterNext(), done);
    LoadImm(6);
    Store(kFamily);
    if (!transport) {
      a_.Goto(done);
      return;
    }
    LoadAbs(BPF_B, 6);
    Store(kNext);
    LoadImm(40);
    Store(kOffset);
    const Label truncated = a_.NewLabel(); // protocol = last Next Header, no ports
    const Label later_fragment = a_.NewLabel();
    const Label finished = a_.NewLabel();
    for (int i = 0; i < kMaxIpv6ExtensionHeaders; ++i) {
      WalkStep(finished, truncated, later_fragment);
    }
    // Still an extension header after the limit: the walk cannot finish.
    LoadMem(kNext);
    IfExtension(truncated, finished);

    a_.Bind(later_fragment);
    LoadXMem(kOffset);
    LoadInd(BPF_B, 0);
    StoreProtocol6();
    a_.Goto(done);

    a_.Bind(truncated);
    LoadMem(kNext);
    StoreProtocol6();
    a_.Goto(done);

    a_.Bind(finished);
    if (relation_transport_) {
      LoadMem(kOffset);
      Store(kTrans);
    }
    LoadMem(kNext);
    StoreProtocol6();
    const Label ports = a_.NewLabel();
    IfPortProtocol(ports, done);
    a_.Bind(ports);
    RequireFromOffset(4, done);
    LoadXMem(kOffset);
    ReadPorts(done);
  }

  // IPv6: the protocol is also the chain's last Next Header.
  void StoreProtocol6() {
    Store(kProto);
    if (chain_) {
      Store(kChain);
    }
  }

  // Jumps to `yes` when A holds an extension header type, else to `no`.
  void IfExtension(Label yes, Label no) {
    for (std::uint32_t type : {0u, 43u, 60u, 44u}) {
      const Label next = a_.NewLabel();
      Jeq(type, yes, next);
      a_.Bind(next);
    }
    Jeq(51, yes, no);
  }

  // One extension header: advance the offset and read its Next Header.
  void WalkStep(Label finished, Label truncated, Label later_fragment) {
    const Label generic = a_.NewLabel();
    const Label fragment = a_.NewLabel();
    const Label ah = a_.NewLabel();
    const Label step_done = a_.NewLabel();
    LoadMem(kNext);
    // Dispatch on the type; with the extension bits, each type sets its bit first.
    const std::pair<std::uint8_t, Label> kinds[] = {
        {0, generic}, {43, generic}, {60, generic}, {44, fragment}, {51, ah}};
    for (std::size_t i = 0; i < std::size(kinds); ++i) {
      const auto [type, body] = kinds[i];
      const Label no = i + 1 < std::size(kinds) ? a_.NewLabel() : finished;
      const Label yes = ext_bits_ ? a_.NewLabel() : body;
      Jeq(type, yes, no);
      if (ext_bits_) {
        a_.Bind(yes);
        MarkExtension(type);
        a_.Goto(body);
      }
      if (no != finished) {
        a_.Bind(no);
      }
    }

    // Hop-by-hop, routing, destination options: (len + 1) * 8 bytes.
    a_.Bind(generic);
    Advance(truncated, 1, 3);
    a_.Goto(step_done);
    // AH: (len + 2) * 4 bytes.
    a_.Bind(ah);
    Advance(truncated, 2, 2);
    a_.Goto(step_done);
    // Fragment: 8 bytes; a non-zero offset ends the walk without ports.
    a_.Bind(fragment);
    RequireFromOffset(8, truncated);
    LoadXMem(kOffset);
    LoadInd(BPF_H, 2);
    Alu(BPF_AND, 0xfff8);
    Jeq(0, a_.AfterNext(), later_fragment);
    LoadMem(kOffset);
    Alu(BPF_ADD, 8);
    Store(kOffset);
    LoadInd(BPF_B, 0);
    Store(kNext);
    a_.Bind(step_done);
  }

  // offset += (hdr[1] + add) << shift; `next` = hdr[0]; after checking the
  // two bytes read are inside the packet.
  void Advance(Label truncated, std::uint32_t add, std::uint32_t shift, Slot next = kNext) {
    RequireFromOffset(2, truncated);
    LoadXMem(kOffset);
    LoadInd(BPF_B, 1);
    Alu(BPF_ADD, add);
    Alu(BPF_LSH, shift);
    a_.Emit(Code(BPF_ALU | BPF_ADD | BPF_X), 0);
    Store(kOffset);
    LoadInd(BPF_B, 0);
    Store(next);
  }

  // --- the expression -------------------------------------------------------
  void Node(int index, Label t, Label f) {
    const FilterNode& n = expr_.node(index);
    switch (n.kind) {
    case FilterNode::Kind::And: {
      const Label right = a_.NewLabel();
      Node(n.left, right, f);
      a_.Bind(right);
      Node(n.right, t, f);
      return;
    }
    case FilterNode::Kind::Or: {
      const Label right = a_.NewLabel();
      Node(n.left, t, right);
      a_.Bind(right);
      Node(n.right, t, f);
      return;
    }
    case FilterNode::Kind::Not:
      negated_ = !negated_;
      Node(n.left, f, t);
      negated_ = !negated_;
      return;
    case FilterNode::Kind::Term:
      TermCode(n.term, t, f);
      return;
    }
  }

  void TermCode(const Term& term, Label t, Label f) {
    switch (term.kind) {
    case TermKind::Family:
      LoadMem(kFamily);
      Jeq(term.family, t, f);
      return;
    case TermKind::Protocol:
    case TermKind::ProtoChain: {
      // The protocol (or the chain's last Next Header), else an extension
      // header the walk read.
      const std::uint8_t bit = ExtensionHeaderBit(term.protocol);
      LoadMem(term.kind == TermKind::Protocol ? kProto : kChain);
      if (bit == 0) {
        Jeq(term.protocol, t, f);
        return;
      }
      Jeq(term.protocol, t, a_.AfterNext());
      LoadMem(kExt);
      Jset(bit, t, f);
      return;
    }
    case TermKind::Less:
      LoadLen();
      Jgt(term.length, f, t);
      return;
    case TermKind::Greater:
      LoadLen();
      Jge(term.length, t, f);
      return;
    case TermKind::Peer:
      // No allowed-ips here: "true" where it appears plainly, "false" under
      // an odd number of `not`s, so only more packets pass; the Matcher decides.
      a_.Goto(negated_ ? f : t);
      return;
    case TermKind::Relation:
      exact_ = classic::EmitRelation(a_, expr_, term,
                                     {kFamily, kProto, kTrans, kFirstFree, reject_}, t, f) &&
               exact_;
      return;
    case TermKind::Port:
    case TermKind::PortRange:
      classic::EmitPort(a_, term, {kHasPorts, kSport, kDport}, t, f);
      return;
    case TermKind::Host:
    case TermKind::Net:
      classic::EmitAddress(a_, term, kFamily, t, f);
      return;
    }
  }

  const FilterExpression& expr_;
  std::uint32_t snaplen_;
  bool transport_ = false;
  bool ext_bits_ = false;           // some term reads kExt
  bool chain_ = false;              // some term reads kChain
  bool relation_transport_ = false; // some relation loads from a transport header: kTrans
  bool exact_ = true;
  bool peer_terms_ = false;       // a `peer` term is over-approximated
  bool relations_ = false;        // a packet-data relation
  bool negated_ = false;          // under an odd number of `not`s
  Label reject_ = classic::kNext; // the final `ret #0`
  Assembler a_;
};

} // namespace

ClassicProgram CompileClassicFilter(const FilterExpression& expression, std::uint32_t snaplen) {
  return ClassicCompiler(expression, snaplen == 0 ? 65535 : snaplen).Compile();
}

} // namespace wgcap
