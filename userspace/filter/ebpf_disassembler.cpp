// SPDX-License-Identifier: Apache-2.0
// eBPF instructions in bpftool's notation, one a line, for `wgcap -d`:
//    12: (61) r1 = *(u32 *)(r6 +80)
// The subset the generator emits is printed fully; anything else by opcode.
#include <cstdio>
#include <string>

#include "filter/ebpf_filter.hpp"

namespace wgcap {
namespace {

const char* SizeName(std::uint8_t size) {
  switch (size) {
  case BPF_B:
    return "u8";
  case BPF_H:
    return "u16";
  case BPF_W:
    return "u32";
  default:
    return "u64";
  }
}

const char* AluOp(std::uint8_t op) {
  switch (op) {
  case BPF_ADD:
    return "+=";
  case BPF_SUB:
    return "-=";
  case BPF_MUL:
    return "*=";
  case BPF_DIV:
    return "/=";
  case BPF_MOD:
    return "%=";
  case BPF_OR:
    return "|=";
  case BPF_AND:
    return "&=";
  case BPF_XOR:
    return "^=";
  case BPF_LSH:
    return "<<=";
  case BPF_RSH:
    return ">>=";
  case BPF_ARSH:
    return "s>>=";
  case BPF_MOV:
    return "=";
  default:
    return "?=";
  }
}

const char* JumpOp(std::uint8_t op) {
  switch (op) {
  case BPF_JEQ:
    return "==";
  case BPF_JNE:
    return "!=";
  case BPF_JGT:
    return ">";
  case BPF_JGE:
    return ">=";
  case BPF_JLT:
    return "<";
  case BPF_JLE:
    return "<=";
  case BPF_JSET:
    return "&";
  case BPF_JSGT:
    return "s>";
  case BPF_JSGE:
    return "s>=";
  case BPF_JSLT:
    return "s<";
  case BPF_JSLE:
    return "s<=";
  default:
    return "?";
  }
}

const char* HelperName(std::int32_t id) {
  switch (id) {
  case 1:
    return "bpf_map_lookup_elem";
  case 12:
    return "bpf_tail_call";
  case 26:
    return "bpf_skb_load_bytes";
  default:
    return "helper";
  }
}

std::string Hex(std::int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 0 ? "-0x%llx" : "0x%llx",
                static_cast<unsigned long long>(v < 0 ? -v : v));
  return buf;
}

std::string Offset(std::int16_t off) {
  return (off < 0 ? " -" : " +") + std::to_string(off < 0 ? -off : off);
}

std::string Reg(bool wide, int r) {
  return (wide ? "r" : "w") + std::to_string(r);
}

// One instruction; `i` advances past the second half of a 64-bit immediate.
std::string Line(const std::vector<bpf_insn>& insns, std::size_t& i) {
  const bpf_insn& in = insns[i];
  const std::uint8_t cls = BPF_CLASS(in.code);
  const int dst = in.dst_reg;
  const int src = in.src_reg;
  switch (cls) {
  case BPF_ALU:
  case BPF_ALU64: {
    const bool wide = cls == BPF_ALU64;
    const std::uint8_t op = BPF_OP(in.code);
    if (op == BPF_NEG) {
      return Reg(wide, dst) + " = -" + Reg(wide, dst);
    }
    if (op == BPF_END) {
      return Reg(true, dst) + " = " + (BPF_SRC(in.code) == BPF_TO_BE ? "be" : "le") +
             std::to_string(in.imm) + " " + Reg(true, dst);
    }
    const std::string operand = BPF_SRC(in.code) == BPF_X ? Reg(wide, src) : Hex(in.imm);
    return Reg(wide, dst) + " " + AluOp(op) + " " + operand;
  }
  case BPF_LDX:
    return Reg(true, dst) + " = *(" + SizeName(BPF_SIZE(in.code)) + " *)(r" + std::to_string(src) +
           Offset(in.off) + ")";
  case BPF_STX:
    return std::string("*(") + SizeName(BPF_SIZE(in.code)) + " *)(r" + std::to_string(dst) +
           Offset(in.off) + ") = r" + std::to_string(src);
  case BPF_ST:
    return std::string("*(") + SizeName(BPF_SIZE(in.code)) + " *)(r" + std::to_string(dst) +
           Offset(in.off) + ") = " + Hex(in.imm);
  case BPF_LD:
    if (in.code == (BPF_LD | BPF_DW | BPF_IMM) && i + 1 < insns.size()) {
      ++i;
      if (in.src_reg == BPF_PSEUDO_MAP_FD) {
        return Reg(true, dst) + " = map[fd:" + std::to_string(in.imm) + "]";
      }
      const std::uint64_t v = static_cast<std::uint32_t>(in.imm) |
                              std::uint64_t{static_cast<std::uint32_t>(insns[i].imm)} << 32;
      return Reg(true, dst) + " = " + Hex(static_cast<std::int64_t>(v)) + " ll";
    }
    break;
  case BPF_JMP:
  case BPF_JMP32: {
    const std::uint8_t op = BPF_OP(in.code);
    if (op == BPF_EXIT) {
      return "exit";
    }
    if (op == BPF_CALL) {
      return std::string("call ") + HelperName(in.imm) + "#" + std::to_string(in.imm);
    }
    const std::string target =
        "goto pc" + std::string(in.off < 0 ? "" : "+") + std::to_string(in.off);
    if (op == BPF_JA) {
      return target;
    }
    const bool wide = cls == BPF_JMP;
    const std::string operand = BPF_SRC(in.code) == BPF_X ? Reg(wide, src) : Hex(in.imm);
    return "if " + Reg(wide, dst) + " " + JumpOp(op) + " " + operand + " " + target;
  }
  default:
    break;
  }
  return "opcode " + Hex(in.code);
}

std::string Disassemble(const std::vector<bpf_insn>& insns,
                        const std::vector<std::pair<std::size_t, std::string>>& comments) {
  std::string out;
  std::size_t c = 0;
  for (std::size_t i = 0; i < insns.size(); ++i) {
    for (; c < comments.size() && comments[c].first <= i; ++c) {
      out += "; " + comments[c].second + "\n";
    }
    char head[48];
    std::snprintf(head, sizeof head, "%4zu: (%02x) ", i, insns[i].code);
    out += head;
    out += Line(insns, i);
    out += "\n";
  }
  return out;
}

} // namespace

std::string DisassembleEbpf(const std::vector<bpf_insn>& instructions) {
  return Disassemble(instructions, {});
}

std::string DisassembleEbpf(const EbpfFilter& filter) {
  return Disassemble(filter.instructions, filter.comments);
}

} // namespace wgcap
