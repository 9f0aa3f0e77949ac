// SPDX-License-Identifier: Apache-2.0
// STAND-IN, NOT THE PRODUCT: GenerateEbpfFilter/DisassembleEbpf as the
// loader branch needs them to link and to test the kernel side before the
// real generator (branch `gen`) lands. Delete this file and its line in the
// top-level CMakeLists.txt at merge.
//
// Exact only for the empty expression, `ip`, `ip6` and `ip and proto N`
// (N not an IPv6 extension type; `icmp`, `ip and tcp`); anything else is the
// pass-all program with exact false, which the contract allows.
#include <linux/bpf.h>

#include <cstddef>
#include <cstdio>
#include <optional>

#include "filter/ebpf_filter.hpp"
#include "wgcap/abi.h"

namespace wgcap {
namespace {

bpf_insn Insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

struct Shape {
  std::uint8_t family = 0; // 0: empty expression
  std::optional<std::uint8_t> protocol;
};

std::optional<Shape> Recognise(const FilterExpression& e) {
  if (e.empty()) {
    return Shape{};
  }
  const FilterNode& root = e.node(e.root);
  auto term = [&](int i) -> const Term* {
    const FilterNode& n = e.node(i);
    return n.kind == FilterNode::Kind::Term ? &n.term : nullptr;
  };
  if (const Term* t = term(e.root); t != nullptr && t->kind == TermKind::Family) {
    return Shape{t->family, std::nullopt};
  }
  if (root.kind != FilterNode::Kind::And) {
    return std::nullopt;
  }
  const Term* a = term(root.left);
  const Term* b = term(root.right);
  if (a == nullptr || b == nullptr) {
    return std::nullopt;
  }
  if (b->kind == TermKind::Family) {
    std::swap(a, b);
  }
  const std::uint8_t p = b->protocol;
  if (a->kind != TermKind::Family || a->family != 4 || b->kind != TermKind::Protocol || p == 0 ||
      p == 43 || p == 44 || p == 60 || p == 51) {
    return std::nullopt;
  }
  return Shape{4, p};
}

} // namespace

EbpfFilter GenerateEbpfFilter(const FilterExpression& expression, const EbpfFilterInputs& in) {
  EbpfFilter f;
  const auto shape = Recognise(expression);
  if (!shape) {
    f.exact = false;
    f.note = "the stand-in generator holds only ip, ip6 and `ip and proto N`: it passes every "
             "packet and the userspace Matcher decides";
  }
  auto& p = f.instructions;
  const auto add = [&p](bpf_insn i) { p.push_back(i); };
  const auto map_fd = [&](int reg, int fd) {
    add(Insn(BPF_LD | BPF_DW | BPF_IMM, reg, BPF_PSEUDO_MAP_FD, 0, fd));
    add(Insn(0, 0, 0, 0, 0));
  };
  add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0)); // r6 = skb
  // counters[SEEN] += 1
  add(Insn(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, WGCAP_COUNTER_SEEN));
  map_fd(1, in.counters_map_fd);
  add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0));
  add(Insn(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4));
  add(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem));
  add(Insn(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3, 0));
  add(Insn(BPF_LDX | BPF_MEM | BPF_DW, 1, 0, 0, 0));
  add(Insn(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, 1));
  add(Insn(BPF_STX | BPF_MEM | BPF_DW, 0, 1, 0, 0));
  std::vector<std::size_t> to_miss; // jumps patched to the miss label
  std::int32_t extent = 0;
  if (shape && shape->family != 0) {
    const std::int32_t fixed = shape->family == 4 ? 20 : 40;
    extent = fixed;
    // r7 = network-layer length; the fixed header onto the stack
    add(Insn(BPF_LDX | BPF_MEM | BPF_W, 7, 6, offsetof(__sk_buff, len), 0));
    add(Insn(BPF_ALU64 | BPF_ADD | BPF_K, 7, 0, 0, -static_cast<std::int32_t>(in.link_header)));
    to_miss.push_back(p.size());
    add(Insn(BPF_JMP | BPF_JSLT | BPF_K, 7, 0, 0, fixed));
    add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0));
    add(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, static_cast<std::int32_t>(in.link_header)));
    add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0));
    add(Insn(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -48));
    add(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, fixed));
    add(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skb_load_bytes));
    to_miss.push_back(p.size());
    add(Insn(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 0, 0));
    add(Insn(BPF_LDX | BPF_MEM | BPF_B, 2, 10, -48, 0)); // version byte
    add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0));
    add(Insn(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 4));
    to_miss.push_back(p.size());
    add(Insn(BPF_JMP | BPF_JNE | BPF_K, 3, 0, 0, shape->family));
    if (shape->family == 4) { // 20 <= IHL * 4 <= length
      add(Insn(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xf));
      add(Insn(BPF_ALU64 | BPF_LSH | BPF_K, 2, 0, 0, 2));
      to_miss.push_back(p.size());
      add(Insn(BPF_JMP | BPF_JLT | BPF_K, 2, 0, 0, 20));
      to_miss.push_back(p.size());
      add(Insn(BPF_JMP | BPF_JGT | BPF_X, 2, 7, 0, 0));
    }
    if (shape->protocol) {
      add(Insn(BPF_LDX | BPF_MEM | BPF_B, 2, 10, -48 + 9, 0));
      to_miss.push_back(p.size());
      add(Insn(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, *shape->protocol));
    }
  }
  // match: cb[extent] = bytes read; tail call; fall through to the miss
  add(Insn(BPF_ST | BPF_MEM | BPF_W, 6, 0,
           static_cast<std::int16_t>(offsetof(__sk_buff, cb) + 4 * WGCAP_CB_EXTENT), extent));
  add(Insn(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0));
  map_fd(2, in.sample_programs_map_fd);
  add(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, static_cast<std::int32_t>(in.sample_index)));
  add(Insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call));
  const std::size_t miss = p.size();
  add(Insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, -1));
  add(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  for (std::size_t at : to_miss) {
    p[at].off = static_cast<std::int16_t>(miss - at - 1);
  }
  return f;
}

std::string DisassembleEbpf(const std::vector<bpf_insn>& instructions) {
  std::string out;
  char line[96];
  for (std::size_t i = 0; i < instructions.size(); ++i) {
    const bpf_insn& n = instructions[i];
    std::snprintf(line, sizeof line, "%4zu: (%02x) dst r%u src r%u off %d imm %d\n", i, n.code,
                  n.dst_reg, n.src_reg, n.off, n.imm);
    out += line;
  }
  return out;
}

} // namespace wgcap
