// SPDX-License-Identifier: Apache-2.0
// The filter expression in the form the TC program evaluates: a decision
// graph of term nodes (include/wgcap/abi.h), one node per term of the AST,
// each jumping forward to another node or to accept / reject.
#pragma once

#include <string>
#include <vector>

#include "wgcap/filter_ast.hpp"
#include "wgcap_abi.h"

namespace wgcap {

struct KernelFilterProgram {
  std::vector<wgcap_filter_node> nodes;
  bool pass_all = true;         // the empty expression, or a fallback
  bool exact = true;            // false: the kernel passes all, the Matcher decides
  bool needs_transport = false; // some term reads the protocol or ports
  bool needs_chain = false;     // some term reads the extension bits or the IPv4 AH walk
  std::string note;             // why it is not exact
};

KernelFilterProgram CompileKernelFilter(const FilterExpression& expression);

// One node a line, for `wgcap -d`.
std::string Disassemble(const KernelFilterProgram& program);

} // namespace wgcap
