// SPDX-License-Identifier: Apache-2.0
// Recursive-descent parser for the filter language (SPEC section 1). One
// state object; the first error wins and carries its column.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "filter/token.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

using filter::Token;
using filter::TokenKind;

// Bounds that keep hostile input from exhausting the stack or memory; far
// beyond any expression a person writes.
constexpr std::size_t kMaxSourceLength = 65536;
constexpr int kMaxDepth = 200;
constexpr std::size_t kMaxNodes = 8192;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

template <typename T> std::optional<T> ParseNumber(std::string_view text, T min, T max) {
  unsigned long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return std::nullopt;
  }
  return static_cast<T>(v);
}

class Parser {
public:
  Parser(std::string_view source, std::vector<Token> tokens) : tokens_(std::move(tokens)) {
    expr_.source = std::string(source);
  }

  Result<FilterExpression> Run() {
    if (Peek().kind != TokenKind::End) {
      expr_.root = ParseOr(0);
      if (error_.empty() && Peek().kind != TokenKind::End) {
        Fail(Peek(), Peek().kind == TokenKind::RParen
                         ? "unexpected \")\" (no \"(\" to close)"
                         : "expected \"and\", \"or\" or end of input, got " + Describe(Peek()));
      }
    }
    if (!error_.empty()) {
      return Error{error_, 0};
    }
    return std::move(expr_);
  }

private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsWord(std::string_view lower) const {
    return Peek().kind == TokenKind::Word && Lower(Peek().text) == lower;
  }

  int Fail(const Token& at, const std::string& what) {
    if (error_.empty()) {
      error_ = "column " + std::to_string(at.column) + ": " + what;
    }
    return -1;
  }

  int Add(FilterNode node) {
    if (expr_.nodes.size() >= kMaxNodes) {
      return Fail(Peek(),
                  "expression too long (more than " + std::to_string(kMaxNodes) + " terms)");
    }
    expr_.nodes.push_back(std::move(node));
    return static_cast<int>(expr_.nodes.size()) - 1;
  }

  int Binary(FilterNode::Kind kind, int left, int right, int column) {
    if (left < 0 || right < 0) {
      return -1;
    }
    FilterNode n;
    n.kind = kind;
    n.left = left;
    n.right = right;
    n.column = column;
    return Add(n);
  }

  bool IsOr() const { return Peek().kind == TokenKind::OrOr || IsWord("or"); }
  bool IsAnd() const { return Peek().kind == TokenKind::AndAnd || IsWord("and"); }
  // A token that can start an operand: juxtaposition means "and".
  bool StartsUnary() const {
    const TokenKind k = Peek().kind;
    return k == TokenKind::LParen || k == TokenKind::Bang ||
           (k == TokenKind::Word && !IsOr() && !IsAnd());
  }

  int ParseOr(int depth) {
    int left = ParseAnd(depth);
    while (error_.empty() && IsOr()) {
      const Token op = Take();
      left =
          Binary(FilterNode::Kind::Or, left, ParseOperand(op, depth, &Parser::ParseAnd), op.column);
    }
    return left;
  }

  int ParseAnd(int depth) {
    int left = ParseUnary(depth);
    while (error_.empty()) {
      if (IsAnd()) {
        const Token op = Take();
        left = Binary(FilterNode::Kind::And, left, ParseOperand(op, depth, &Parser::ParseUnary),
                      op.column);
      } else if (StartsUnary()) {
        const int column = Peek().column;
        left = Binary(FilterNode::Kind::And, left, ParseUnary(depth), column);
      } else {
        break;
      }
    }
    return left;
  }

  // The right operand of a binary operator, with a message naming the
  // operator when it is missing.
  int ParseOperand(const Token& op, int depth, int (Parser::*parse)(int)) {
    if (!StartsUnary()) {
      return Fail(Peek(), "expected an expression after \"" + std::string(op.text) + "\", got " +
                              Describe(Peek()));
    }
    return (this->*parse)(depth);
  }

  int ParseUnary(int depth) {
    if (depth >= kMaxDepth) {
      return Fail(Peek(), "expression nested too deeply (limit " + std::to_string(kMaxDepth) + ")");
    }
    const Token& t = Peek();
    if (t.kind == TokenKind::Bang || IsWord("not")) {
      const Token op = Take();
      if (!StartsUnary()) {
        return Fail(Peek(), "expected an expression after \"" + std::string(op.text) + "\", got " +
                                Describe(Peek()));
      }
      const int operand = ParseUnary(depth + 1);
      if (operand < 0) {
        return -1;
      }
      FilterNode n;
      n.kind = FilterNode::Kind::Not;
      n.left = operand;
      n.column = op.column;
      return Add(n);
    }
    if (t.kind == TokenKind::LParen) {
      const Token open = Take();
      if (Peek().kind == TokenKind::RParen) {
        return Fail(Peek(), "expected an expression after \"(\", got \")\"");
      }
      const int inner = ParseOr(depth + 1);
      if (!error_.empty()) {
        return -1;
      }
      if (Peek().kind != TokenKind::RParen) {
        return Fail(Peek(), "expected \")\" to close \"(\" at column " +
                                std::to_string(open.column) + ", got " + Describe(Peek()));
      }
      Take();
      return inner;
    }
    if (t.kind != TokenKind::Word || IsAnd() || IsOr()) {
      return Fail(t, "expected an expression, got " + Describe(t));
    }
    return ParseTerm();
  }

  int AddTerm(const Term& term, int column) {
    FilterNode n;
    n.kind = FilterNode::Kind::Term;
    n.term = term;
    n.column = column;
    return Add(n);
  }

  int ParseTerm() {
    const Token kw = Take();
    const std::string k = Lower(kw.text);
    Term term;
    if (k == "src" || k == "dst") {
      term.endpoint = k == "src" ? Endpoint::Src : Endpoint::Dst;
      return ParseTarget(kw, term);
    }
    if (k == "host" || k == "net" || k == "port" || k == "portrange") {
      --pos_; // the keyword is part of the target
      return ParseTarget(kw, term);
    }
    static constexpr struct {
      const char* word;
      std::uint8_t protocol;
    } kProtocols[] = {
        {"tcp", kProtoTcp}, {"udp", kProtoUdp}, {"icmp", kProtoIcmp}, {"icmp6", kProtoIcmp6}};
    for (const auto& p : kProtocols) {
      if (k == p.word) {
        term.kind = TermKind::Protocol;
        term.protocol = p.protocol;
        return AddTerm(term, kw.column);
      }
    }
    if (k == "ip" || k == "ip6") {
      term.kind = TermKind::Family;
      term.family = k == "ip" ? 4 : 6;
      return AddTerm(term, kw.column);
    }
    if (k == "proto") {
      const Token v = Take();
      const auto n = ParseNumber<std::uint8_t>(Value(v), 0, 255);
      if (v.kind != TokenKind::Word || !n) {
        return Fail(v, "invalid protocol " + Describe(v) + " after \"proto\" (expected 0-255)");
      }
      term.kind = TermKind::Protocol;
      term.protocol = *n;
      return AddTerm(term, kw.column);
    }
    if (k == "less" || k == "greater") {
      const Token v = Take();
      const auto n = ParseNumber<std::uint32_t>(Value(v), 0, UINT32_MAX);
      if (v.kind != TokenKind::Word || !n) {
        return Fail(v, "invalid length " + Describe(v) + " after \"" + k +
                           "\" (expected 0-4294967295)");
      }
      term.kind = k == "less" ? TermKind::Less : TermKind::Greater;
      term.length = *n;
      return AddTerm(term, kw.column);
    }
    if (IpAddress::Parse(kw.text) || IpPrefix::Parse(kw.text)) {
      return Fail(kw, "expected a keyword before \"" + std::string(kw.text) +
                          "\" (for example \"host " + std::string(kw.text) + "\" or \"net " +
                          std::string(kw.text) + "\")");
    }
    return Fail(kw, "unknown keyword " + Describe(kw) +
                        " (expected host, net, port, portrange, src, dst, tcp, udp, icmp, icmp6, "
                        "ip, ip6, proto, less, greater, not or \"(\")");
  }

  static std::string_view Value(const Token& t) {
    return t.kind == TokenKind::Word ? t.text : std::string_view{};
  }

  // After src/dst (or for a bare host/net/port/portrange): the keyword and
  // its value. `qualifier` is the token that began the term.
  int ParseTarget(const Token& qualifier, Term term) {
    const Token kw = Take();
    const std::string k = Lower(Value(kw));
    if (k == "host") {
      return ParseAddress(kw, qualifier, term);
    }
    if (k == "net") {
      const Token v = Take();
      std::string why;
      const auto prefix = v.kind == TokenKind::Word ? IpPrefix::Parse(v.text, &why) : std::nullopt;
      if (!prefix) {
        return Fail(v, v.kind == TokenKind::Word
                           ? why
                           : "expected a prefix after \"net\", got " + Describe(v));
      }
      term.kind = TermKind::Net;
      term.prefix = *prefix;
      return AddTerm(term, qualifier.column);
    }
    if (k == "port") {
      const auto port = ParsePort(Take());
      if (!port) {
        return -1;
      }
      term.kind = TermKind::Port;
      term.port_low = term.port_high = *port;
      return AddTerm(term, qualifier.column);
    }
    if (k == "portrange") {
      const Token first = Peek();
      const auto low = ParsePort(Take());
      if (!low) {
        return -1;
      }
      if (Peek().kind != TokenKind::Dash) {
        return Fail(Peek(), "expected \"-\" in port range after " + Describe(first) + ", got " +
                                Describe(Peek()));
      }
      Take();
      const auto high = ParsePort(Take());
      if (!high) {
        return -1;
      }
      term.kind = TermKind::PortRange;
      // As in libpcap, a reversed range means the same ports.
      term.port_low = std::min(*low, *high);
      term.port_high = std::max(*low, *high);
      return AddTerm(term, qualifier.column);
    }
    if (term.endpoint != Endpoint::Either && kw.kind == TokenKind::Word) {
      --pos_; // "src 192.0.2.1" means "src host 192.0.2.1"
      return ParseAddress(qualifier, qualifier, term);
    }
    return Fail(kw, "expected host, net, port, portrange or an address after \"" +
                        std::string(qualifier.text) + "\", got " + Describe(kw));
  }

  int ParseAddress(const Token& after, const Token& qualifier, Term term) {
    const Token v = Take();
    if (v.kind != TokenKind::Word) {
      return Fail(v, "expected an address after \"" + std::string(after.text) + "\", got " +
                         Describe(v));
    }
    const auto address = IpAddress::Parse(v.text);
    if (!address) {
      const bool prefix = v.text.find('/') != std::string_view::npos;
      return Fail(v,
                  "invalid address " + Describe(v) + (prefix ? " (use \"net\" for a prefix)" : ""));
    }
    term.kind = TermKind::Host;
    term.prefix = IpPrefix::Host(*address);
    return AddTerm(term, qualifier.column);
  }

  std::optional<std::uint16_t> ParsePort(const Token& v) {
    const auto port = ParseNumber<std::uint16_t>(Value(v), 1, 65535);
    if (!port) {
      Fail(v, v.kind == TokenKind::Word ? "invalid port " + Describe(v) + " (expected 1-65535)"
                                        : "expected a port, got " + Describe(v));
    }
    return port;
  }

  FilterExpression expr_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::string error_;
};

} // namespace

Result<FilterExpression> ParseFilterExpression(std::string_view text) {
  if (text.size() > kMaxSourceLength) {
    return Error{"column " + std::to_string(kMaxSourceLength + 1) + ": expression longer than " +
                     std::to_string(kMaxSourceLength) + " characters",
                 0};
  }
  filter::TokenizeResult tokens = filter::Tokenize(text);
  if (!tokens.error.empty()) {
    return Error{tokens.error, 0};
  }
  return Parser(text, std::move(tokens.tokens)).Run();
}

Result<std::shared_ptr<const ExpressionMatcher>> ParseFilter(std::string_view text) {
  auto expression = ParseFilterExpression(text);
  if (!expression) {
    return expression.error();
  }
  return std::make_shared<const ExpressionMatcher>(std::move(expression).value());
}

} // namespace wgcap
