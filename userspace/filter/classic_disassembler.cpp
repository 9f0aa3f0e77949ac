// SPDX-License-Identifier: Apache-2.0
// Classic BPF as text, in the layout of `tcpdump -d`, for `wgcap -d`.
#include <cstdio>
#include <string>

#include "filter/classic_filter.hpp"

namespace wgcap {
namespace {

const char* kSlotNames[] = {"family", "proto",    "has_ports",  "sport", "dport",
                            "offset", "next_hdr", "extensions", "chain"};

std::string Memory(std::uint32_t k) {
  char buf[48];
  if (k < std::size(kSlotNames)) {
    std::snprintf(buf, sizeof buf, "M[%u]  ; %s", k, kSlotNames[k]);
  } else {
    std::snprintf(buf, sizeof buf, "M[%u]", k);
  }
  return buf;
}

std::string Operand(const sock_filter& f) {
  char buf[48];
  switch (BPF_MODE(f.code)) {
  case BPF_IMM:
    std::snprintf(buf, sizeof buf, "#%u", f.k);
    return buf;
  case BPF_ABS:
    if (f.k == static_cast<std::uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
      return "#pkttype"; // -Q: the ancillary load of the packet type
    }
    std::snprintf(buf, sizeof buf, "[%u]", f.k);
    return buf;
  case BPF_IND:
    std::snprintf(buf, sizeof buf, "[x + %u]", f.k);
    return buf;
  case BPF_MEM:
    return Memory(f.k);
  case BPF_LEN:
    return "#pktlen";
  case BPF_MSH:
    std::snprintf(buf, sizeof buf, "4*([%u]&0xf)", f.k);
    return buf;
  default:
    return "?";
  }
}

std::string Mnemonic(const sock_filter& f) {
  const unsigned cls = BPF_CLASS(f.code);
  const unsigned size = BPF_SIZE(f.code);
  const char* suffix = size == BPF_H ? "h" : size == BPF_B ? "b" : "";
  switch (cls) {
  case BPF_LD:
    return std::string("ld") +
           (BPF_MODE(f.code) == BPF_ABS || BPF_MODE(f.code) == BPF_IND ? suffix : "");
  case BPF_LDX:
    return BPF_MODE(f.code) == BPF_MSH ? "ldxb" : "ldx";
  case BPF_ST:
    return "st";
  case BPF_STX:
    return "stx";
  case BPF_ALU:
    switch (BPF_OP(f.code)) {
    case BPF_ADD:
      return "add";
    case BPF_SUB:
      return "sub";
    case BPF_MUL:
      return "mul";
    case BPF_DIV:
      return "div";
    case BPF_MOD:
      return "mod";
    case BPF_XOR:
      return "xor";
    case BPF_AND:
      return "and";
    case BPF_OR:
      return "or";
    case BPF_LSH:
      return "lsh";
    case BPF_RSH:
      return "rsh";
    case BPF_NEG:
      return "neg";
    default:
      return "alu?";
    }
  case BPF_JMP:
    switch (BPF_OP(f.code)) {
    case BPF_JA:
      return "ja";
    case BPF_JEQ:
      return "jeq";
    case BPF_JGT:
      return "jgt";
    case BPF_JGE:
      return "jge";
    case BPF_JSET:
      return "jset";
    default:
      return "j?";
    }
  case BPF_RET:
    return "ret";
  case BPF_MISC:
    return BPF_MISCOP(f.code) == BPF_TAX ? "tax" : "txa";
  default:
    return "?";
  }
}

} // namespace

std::string Disassemble(const std::vector<sock_filter>& program) {
  std::string out;
  char line[128];
  for (std::size_t i = 0; i < program.size(); ++i) {
    const sock_filter& f = program[i];
    const unsigned cls = BPF_CLASS(f.code);
    std::string operand;
    if (cls == BPF_LD || cls == BPF_LDX) {
      operand = Operand(f);
    } else if (cls == BPF_ST || cls == BPF_STX) {
      operand = Memory(f.k);
    } else if (cls == BPF_ALU || cls == BPF_JMP || cls == BPF_RET) {
      if (BPF_SRC(f.code) == BPF_X && cls != BPF_RET) {
        operand = "x";
      } else if (!(cls == BPF_JMP && BPF_OP(f.code) == BPF_JA)) {
        std::snprintf(line, sizeof line, cls == BPF_RET ? "#%u" : "#0x%x", f.k);
        operand = line;
      }
    }
    if (cls == BPF_JMP && BPF_OP(f.code) == BPF_JA) {
      std::snprintf(line, sizeof line, "(%03zu) %-8s %zu\n", i, "ja", i + 1 + f.k);
    } else if (cls == BPF_JMP) {
      std::snprintf(line, sizeof line, "(%03zu) %-8s %-16s jt %zu\tjf %zu\n", i,
                    Mnemonic(f).c_str(), operand.c_str(), i + 1 + f.jt, i + 1 + f.jf);
    } else {
      std::snprintf(line, sizeof line, "(%03zu) %-8s %s\n", i, Mnemonic(f).c_str(),
                    operand.c_str());
    }
    out += line;
  }
  return out;
}

} // namespace wgcap
