// SPDX-License-Identifier: Apache-2.0
// AST → decision graph. Terms become nodes in source order; And/Or/Not only
// route the jumps: for `a and b` a's true edge goes to b's first node, for
// `a or b` its false edge does, and `not` swaps the edges. Every edge points
// to a later node, which is what lets the kernel side run the graph in one
// forward pass.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "filter/kernel_filter.hpp"
#include "wgcap/packet_parse.hpp"

namespace wgcap {
namespace {

class GraphBuilder {
public:
  explicit GraphBuilder(const FilterExpression& expr) : expr_(expr) {}

  bool Build(std::vector<wgcap_filter_node>& out, bool& needs_transport, bool& needs_chain) {
    const std::size_t terms = CountTerms(expr_.root);
    if (terms > WGCAP_FILTER_MAX_NODES) {
      return false;
    }
    nodes_.assign(terms, wgcap_filter_node{});
    next_ = 0;
    Node(expr_.root, WGCAP_TARGET_ACCEPT, WGCAP_TARGET_REJECT);
    out = nodes_;
    needs_transport = needs_transport_;
    needs_chain = needs_chain_;
    return true;
  }

private:
  std::size_t CountTerms(int index) const {
    const FilterNode& n = expr_.node(index);
    if (n.kind == FilterNode::Kind::Term) {
      return 1;
    }
    return CountTerms(n.left) + (n.right >= 0 ? CountTerms(n.right) : 0);
  }

  void Node(int index, std::uint16_t t, std::uint16_t f) {
    const FilterNode& n = expr_.node(index);
    switch (n.kind) {
    case FilterNode::Kind::And: {
      const std::uint16_t right = static_cast<std::uint16_t>(next_ + CountTerms(n.left));
      Node(n.left, right, f);
      Node(n.right, t, f);
      return;
    }
    case FilterNode::Kind::Or: {
      const std::uint16_t right = static_cast<std::uint16_t>(next_ + CountTerms(n.left));
      Node(n.left, t, right);
      Node(n.right, t, f);
      return;
    }
    case FilterNode::Kind::Not:
      Node(n.left, f, t);
      return;
    case FilterNode::Kind::Term:
      nodes_[next_] = Encode(n.term, t, f);
      ++next_;
      return;
    }
  }

  wgcap_filter_node Encode(const Term& term, std::uint16_t t, std::uint16_t f) {
    wgcap_filter_node n{};
    n.jt = t;
    n.jf = f;
    n.endpoint = term.endpoint == Endpoint::Src   ? WGCAP_ENDPOINT_SRC
                 : term.endpoint == Endpoint::Dst ? WGCAP_ENDPOINT_DST
                                                  : WGCAP_ENDPOINT_EITHER;
    switch (term.kind) {
    case TermKind::Family:
      n.kind = WGCAP_NODE_FAMILY;
      n.family = term.family;
      break;
    case TermKind::Protocol:
    case TermKind::ProtoChain:
      n.kind = term.kind == TermKind::Protocol ? WGCAP_NODE_PROTOCOL : WGCAP_NODE_PROTOCHAIN;
      n.protocol = term.protocol;
      n.extension = ExtensionHeaderBit(term.protocol);
      needs_transport_ = true;
      needs_chain_ = needs_chain_ || n.extension != 0 || term.kind == TermKind::ProtoChain;
      break;
    case TermKind::Port:
    case TermKind::PortRange:
      n.kind = WGCAP_NODE_PORT;
      n.port_low = term.port_low;
      n.port_high = term.port_high;
      needs_transport_ = true;
      break;
    case TermKind::Host:
    case TermKind::Net:
      n.kind = WGCAP_NODE_ADDRESS;
      n.family = term.prefix.address.family;
      for (int w = 0; w < 4; ++w) {
        const int bits = std::clamp(term.prefix.length - w * 32, 0, 32);
        const std::uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
        std::uint32_t word;
        std::memcpy(&word, &term.prefix.address.bytes[static_cast<std::size_t>(w) * 4], 4);
        n.mask[w] = htonl(mask);
        n.addr[w] = word & n.mask[w];
      }
      break;
    case TermKind::Less:
      n.kind = WGCAP_NODE_LESS;
      n.length = term.length;
      break;
    case TermKind::Greater:
      n.kind = WGCAP_NODE_GREATER;
      n.length = term.length;
      break;
    case TermKind::Relation: // issue 21: not yet produced by the parser
      break;
    }
    return n;
  }

  const FilterExpression& expr_;
  std::vector<wgcap_filter_node> nodes_;
  std::size_t next_ = 0;
  bool needs_transport_ = false;
  bool needs_chain_ = false;
};

std::string Target(std::uint16_t t) {
  if (t == WGCAP_TARGET_ACCEPT) {
    return "accept";
  }
  if (t == WGCAP_TARGET_REJECT) {
    return "reject";
  }
  return "node " + std::to_string(t);
}

std::string Endpoint(std::uint8_t e) {
  return e == WGCAP_ENDPOINT_SRC ? "src " : e == WGCAP_ENDPOINT_DST ? "dst " : "";
}

std::string Test(const wgcap_filter_node& n) {
  char buf[128];
  switch (n.kind) {
  case WGCAP_NODE_FAMILY:
    return n.family == 4 ? "family == 4" : "family == 6";
  case WGCAP_NODE_PROTOCOL:
  case WGCAP_NODE_PROTOCHAIN: {
    std::string test = n.kind == WGCAP_NODE_PROTOCOL ? "protocol == " : "chain protocol == ";
    test += std::to_string(n.protocol);
    if (n.extension != 0) {
      test += " or extension " + std::to_string(n.protocol) + " walked";
    }
    return test;
  }
  case WGCAP_NODE_PORT:
    std::snprintf(buf, sizeof buf, "%sport in %u-%u", Endpoint(n.endpoint).c_str(), n.port_low,
                  n.port_high);
    return buf;
  case WGCAP_NODE_ADDRESS: {
    char addr[INET6_ADDRSTRLEN], mask[INET6_ADDRSTRLEN];
    const int af = n.family == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, n.addr, addr, sizeof addr);
    inet_ntop(af, n.mask, mask, sizeof mask);
    std::snprintf(buf, sizeof buf, "%saddress & %s == %s", Endpoint(n.endpoint).c_str(), mask,
                  addr);
    return buf;
  }
  case WGCAP_NODE_LESS:
    return "length <= " + std::to_string(n.length);
  case WGCAP_NODE_GREATER:
    return "length >= " + std::to_string(n.length);
  default:
    return "?";
  }
}

} // namespace

KernelFilterProgram CompileKernelFilter(const FilterExpression& expression) {
  KernelFilterProgram program;
  if (expression.empty()) {
    return program;
  }
  if (!GraphBuilder(expression)
           .Build(program.nodes, program.needs_transport, program.needs_chain)) {
    program.exact = false;
    program.note = "the expression has more than " + std::to_string(WGCAP_FILTER_MAX_NODES) +
                   " terms, more than the kernel program holds: it passes every packet and the "
                   "userspace Matcher decides";
    return program;
  }
  program.pass_all = false;
  return program;
}

std::string Disassemble(const KernelFilterProgram& program) {
  if (program.pass_all) {
    return "(all) accept\n";
  }
  std::string out;
  char line[256];
  for (std::size_t i = 0; i < program.nodes.size(); ++i) {
    const wgcap_filter_node& n = program.nodes[i];
    std::snprintf(line, sizeof line, "(%02zu) %-48s true: %-8s false: %s\n", i, Test(n).c_str(),
                  Target(n.jt).c_str(), Target(n.jf).c_str());
    out += line;
  }
  return out;
}

} // namespace wgcap
