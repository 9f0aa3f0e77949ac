// SPDX-License-Identifier: Apache-2.0
// A relation's arithmetic operator as the BPF ALU operation both code
// generators emit (classic and eBPF share the encoding, linux/bpf_common.h).
#pragma once

#include <linux/bpf_common.h>

#include <cstdint>

#include "wgcap/filter_ast.hpp"

namespace wgcap {

constexpr std::uint8_t BpfAluOp(ValueOp op) noexcept {
  switch (op) {
  case ValueOp::Add:
    return BPF_ADD;
  case ValueOp::Sub:
    return BPF_SUB;
  case ValueOp::Mul:
    return BPF_MUL;
  case ValueOp::Div:
    return BPF_DIV;
  case ValueOp::Mod:
    return BPF_MOD;
  case ValueOp::And:
    return BPF_AND;
  case ValueOp::Or:
    return BPF_OR;
  case ValueOp::Xor:
    return BPF_XOR;
  case ValueOp::Shl:
    return BPF_LSH;
  case ValueOp::Shr:
    return BPF_RSH;
  }
  return BPF_ADD;
}

} // namespace wgcap
