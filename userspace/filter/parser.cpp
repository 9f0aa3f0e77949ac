// SPDX-License-Identifier: Apache-2.0
// Recursive-descent parser for the filter language (SPEC section 1). One
// state object; the first error wins and carries its column.
#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "filter/ipv4_text.hpp"
#include "filter/primitive.hpp"
#include "filter/relation.hpp"
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

using filter::Lower;

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
    return Peek().kind == TokenKind::Word && !Peek().escaped && Lower(Peek().text) == lower;
  }

  int Fail(const Token& at, const std::string& what) {
    if (error_.empty()) { // a lone "&" or "|" belongs to a relation only
      const bool bit = at.kind == TokenKind::Amp || at.kind == TokenKind::Pipe;
      error_ = "column " + std::to_string(at.column) + ": " +
               (bit ? "unexpected \"" + std::string(at.text) + "\" (did you mean \"" +
                          std::string(2, at.text[0]) + "\"?)"
                    : what);
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
    return filter::AddBinary(kind, left, right, column,
                             [this](const FilterNode& n) { return Add(n); });
  }

  bool IsOr() const { return Peek().kind == TokenKind::OrOr || IsWord("or"); }
  bool IsAnd() const { return Peek().kind == TokenKind::AndAnd || IsWord("and"); }
  // A token that can start an operand: juxtaposition means "and".
  bool StartsUnary() const {
    const TokenKind k = Peek().kind;
    return k == TokenKind::LParen || k == TokenKind::Bang ||
           (k == TokenKind::Dash && filter::MayStartRelation(expr_.source, Peek().column)) ||
           (k == TokenKind::Word && !IsOr() && !IsAnd());
  }

  int ParseOr(int depth) {
    const std::size_t start = pos_;
    int left = ParseAnd(depth);
    bool warned = false;
    while (error_.empty() && IsOr()) {
      const std::size_t op = pos_;
      const Token or_token = Take();
      const int right = ParseOperand(or_token, depth, &Parser::ParseAnd);
      if (!warned && error_.empty() && and_.op != kNone) {
        warned = true;
        WarnPrecedence(start, op, and_);
      }
      left = Binary(FilterNode::Kind::Or, left, right, or_token.column);
    }
    return left;
  }

  // Where the first "and" of the last and-chain parsed sits: one past its
  // first operand's last token, and the operator (for juxtaposition, the
  // second operand's first token).
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  struct AndChain {
    std::size_t first_end = kNone;
    std::size_t op = kNone;
  };

  int ParseAnd(int depth) {
    AndChain chain;
    int left = ParseUnary(depth);
    while (error_.empty()) {
      const bool explicit_and = IsAnd();
      if (!explicit_and && !StartsUnary()) {
        break;
      }
      if (chain.op == kNone) {
        chain = AndChain{pos_, pos_};
      }
      if (explicit_and) {
        const Token op = Take();
        left = Binary(FilterNode::Kind::And, left, ParseOperand(op, depth, &Parser::ParseUnary),
                      op.column);
      } else {
        // Juxtaposition is "and", but, as in libpcap, a bare ID right after
        // a term has nothing to inherit: "host A B" is an error.
        ctx_.reset();
        const int column = Peek().column;
        left = Binary(FilterNode::Kind::And, left, ParseUnary(depth), column);
      }
    }
    and_ = chain;
    return left;
  }

  // "a or b and c": ours is "a or (b and c)", tcpdump's, with equal
  // precedence left to right, "(a or b) and c". At most one warning per
  // bracket level: the first "or" whose right side holds an "and".
  void WarnPrecedence(std::size_t start, std::size_t or_op, const AndChain& chain) {
    expr_.warnings.push_back(filter::PrecedenceWarning(expr_.source, tokens_, start, or_op,
                                                       chain.first_end, chain.op, pos_));
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
    if (ids_only_ == 0) { // `tcp[13] & 2 != 0`, `len > 1400`, `(ip[0]) = 1`
      using Status = filter::TokenRelation::Status;
      const auto r = filter::RelationAtToken(expr_.source, tokens_, pos_, expr_.values, kMaxNodes,
                                             kMaxDepth - depth);
      if (r.status != Status::NotRelation) {
        ctx_.reset(); // as in libpcap, nothing for a later bare ID to inherit
        error_ = error_.empty() ? r.error : error_;
        pos_ = r.status == Status::Ok ? r.next : pos_;
        return r.status == Status::Ok ? AddTerm(r.term, t.column) : -1;
      }
    }
    if (t.kind == TokenKind::LParen) {
      const Token open = Take();
      if (Peek().kind == TokenKind::RParen) {
        return Fail(Peek(), "expected an expression after \"(\", got \")\"");
      }
      // A bare ID just inside takes the qualifiers from before the "(";
      // after the ")" they are again those from before it, as in libpcap.
      const auto outer = ctx_;
      const int inner = ParseOr(depth + 1);
      if (!error_.empty()) {
        return -1;
      }
      ctx_ = outer;
      if (Peek().kind != TokenKind::RParen) {
        return Fail(Peek(), "expected \")\" to close \"(\" at column " +
                                std::to_string(open.column) + ", got " + Describe(Peek()));
      }
      Take();
      return inner;
    }
    if (t.kind != TokenKind::Word || IsAnd() || IsOr()) {
      return Fail(t, ids_only_ > 0 ? "expected a value to take the qualifiers before \"(\", got " +
                                         Describe(t)
                                   : "expected an expression, got " + Describe(t));
    }
    return ParseTerm(depth);
  }

  int AddTerm(const Term& term, int column) {
    FilterNode n;
    n.kind = FilterNode::Kind::Term;
    n.term = term;
    n.column = column;
    return Add(n);
  }

  bool AtHeadWord() const {
    if (Peek().kind != TokenKind::Word || Peek().escaped) {
      return false;
    }
    const std::string k = Lower(Peek().text);
    // "peer" too, to refuse it qualifiers: `tcp peer K` is not "tcp and peer K".
    return k == "src" || k == "dst" || k == "proto" || k == "protochain" || k == "peer" ||
           filter::KindWord(k).has_value();
  }

  int ParseTerm(int depth) {
    const std::string k = Lower(Peek().text);
    if (Peek().escaped) {
      return ParseBareId();
    }
    if (const auto why = filter::LinkLayerWord(k.substr(0, k.find('[')))) { // "ether[0]" too
      return Fail(Peek(), *why);
    }
    if (k == "multicast" || k == "broadcast") {
      return Cast(filter::QualProto::None, Take());
    }
    if (filter::IsPrimitiveKeyword(k)) {
      if (ids_only_ > 0) { // libpcap: "host (A or B)" holds values only
        return Fail(Peek(), "expected a value to take the qualifiers before \"(\", got " +
                                Describe(Peek()));
      }
      return ParsePrimitive(depth);
    }
    return ParseBareId();
  }

  // `[proto] [dir] [kind] ID`, or a lone protocol, `less N`, `greater N`, `peer KEY`.
  int ParsePrimitive(int depth) {
    const Token first = Take();
    const std::string k = Lower(first.text);
    if (k == "less" || k == "greater" || k == "peer") {
      ctx_.reset(); // as in libpcap, nothing for a later bare ID to inherit
      return k == "peer" ? ParsePeer(first) : ParseLength(first, k);
    }
    filter::Qualifiers q;
    Token last = first; // the last qualifier word, for messages
    if (const auto proto = filter::ProtoQualifier(k)) {
      q.proto = *proto;
      q.proto_column = first.column;
      if (IsWord("multicast") || IsWord("broadcast")) {
        return Cast(*proto, Take());
      }
      if (!AtHeadWord()) {
        ctx_.reset();
        return filter::AddProtoTerms(*proto, first.column,
                                     [this](const FilterNode& n) { return Add(n); });
      }
      if ((IsWord("proto") || IsWord("protochain")) && *proto != filter::QualProto::Ip &&
          *proto != filter::QualProto::Ip6) {
        return Fail(first, "'" + k + " " + Lower(Peek().text) + "' is bogus");
      }
    } else {
      --pos_;
    }
    if (IsWord("proto") || IsWord("protochain")) {
      last = Take();
      q.kind = Lower(last.text) == "proto" ? filter::QualKind::Proto : filter::QualKind::ProtoChain;
    } else {
      if (IsWord("src") || IsWord("dst")) {
        last = ParseDirection(&q);
      }
      if (Peek().kind == TokenKind::Word) {
        if (const auto kind = filter::KindWord(Lower(Peek().text))) {
          last = Take();
          q.kind = *kind;
        }
      }
    }
    if (IsWord("peer")) {
      return Fail(Peek(), filter::PeerQualifierError(first.text, q.proto_column != 0));
    }
    ctx_ = q;
    ctx_->proto_column = 0;
    if (Peek().kind == TokenKind::LParen || Peek().kind == TokenKind::Bang || IsWord("not")) {
      // "host (A or B)", "port not 22": every value inside takes these
      // qualifiers, as in libpcap's grammar.
      ++ids_only_;
      const int group = ParseUnary(depth + 1);
      --ids_only_;
      ctx_ = q;
      ctx_->proto_column = 0;
      return group;
    }
    filter::IdText id;
    if (!ReadId(q, last, &id)) {
      return -1;
    }
    return Build(q, id, first.column);
  }

  // `ip multicast`, `ip broadcast`, `ip6 multicast`; the others need a link
  // layer. Nothing for a later bare ID to inherit, as in libpcap.
  int Cast(filter::QualProto proto, const Token& word) {
    ctx_.reset();
    std::string why;
    const int root = filter::AddCastTerms(
        proto, Lower(word.text) == "multicast", word.column,
        [this](const FilterNode& n) { return Add(n); }, &why);
    return root < 0 && !why.empty() ? Fail(word, why) : root;
  }

  // src, dst, and the pairs "src or dst", "dst and src" (also || and &&).
  Token ParseDirection(filter::Qualifiers* q) {
    const Token d = Take();
    const bool src = Lower(d.text) == "src";
    q->dir = src ? filter::QualDir::Src : filter::QualDir::Dst;
    const Token& next = tokens_[std::min(pos_ + 1, tokens_.size() - 1)];
    if ((IsOr() || IsAnd()) && next.kind == TokenKind::Word &&
        Lower(next.text) == (src ? "dst" : "src")) {
      q->dir = IsOr() ? filter::QualDir::SrcOrDst : filter::QualDir::SrcAndDst;
      Take();
      return Take();
    }
    return d;
  }

  int ParseLength(const Token& kw, const std::string& k) {
    const Token v = Take();
    const auto n =
        filter::ParseLibpcapNumber(v.kind == TokenKind::Word ? v.text : std::string_view{});
    if (v.kind != TokenKind::Word || !n) {
      return Fail(v,
                  "invalid length " + Describe(v) + " after \"" + k + "\" (expected 0-4294967295)");
    }
    Term term;
    term.kind = k == "less" ? TermKind::Less : TermKind::Greater;
    term.length = *n;
    return AddTerm(term, kw.column);
  }

  int ParsePeer(const Token& keyword) {
    filter::Diagnostic why;
    const auto term = filter::PeerTerm(Take(), &why);
    return term ? AddTerm(*term, keyword.column)
                : Fail(Token{TokenKind::Word, {}, why.column}, why.message);
  }

  // A bare ID in operand position takes the qualifiers of the primitive
  // before it: `port 80 or 443`, `host A or B`, `not host A and B`.
  int ParseBareId() {
    const Token v = Peek();
    const bool number = !v.text.empty() && std::all_of(v.text.begin(), v.text.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    const bool address = IpAddress::Parse(v.text) || IpPrefix::Parse(v.text);
    if (!ctx_) { // libpcap reads a lone "\\name" as a host name
      return Fail(v, v.escaped ? "\"" + std::string(v.text) +
                                     "\": host names are not looked up; give an address"
                               : filter::NothingToLend(v.text, number, address));
    }
    const filter::Qualifiers q = *ctx_;
    filter::IdText id;
    if (!ReadId(q, v, &id)) {
      return -1;
    }
    return Build(q, id, v.column);
  }

  // The word after `at` with any "-word" pieces touching it: service names
  // (ftp-data) and ranges (1000-2000) are one ID, as libpcap's lexer reads
  // them, although the tokenizer splits at "-".
  std::optional<std::pair<std::string, int>> ReadWord(const std::string& missing) {
    const Token v = Peek();
    if (v.kind != TokenKind::Word || IsAnd() || IsOr() || IsWord("not")) {
      Fail(v, missing + Describe(v));
      return std::nullopt;
    }
    Token last = Take();
    std::string text(v.text);
    while (Peek().kind == TokenKind::Dash && filter::Touching(last, Peek()) &&
           tokens_[pos_ + 1].kind == TokenKind::Word &&
           filter::Touching(Peek(), tokens_[pos_ + 1])) {
      Take();
      last = Take();
      text += "-" + std::string(last.text);
    }
    // A keyword alone is not a value ("net-10.example" is one name).
    if (!v.escaped && last.column == v.column && filter::IsPrimitiveKeyword(Lower(v.text))) {
      Fail(v, missing + Describe(v) + " (a keyword; write \\" + std::string(v.text) +
                  " for the name)");
      return std::nullopt;
    }
    // "10.0.0.2 / 32", "10.0.0.2/ 32": libpcap's lexer allows blanks around
    // the "/" of a prefix.
    while (!v.escaped && Peek().kind == TokenKind::Word && !Peek().escaped &&
           (text.back() == '/' || Peek().text.front() == '/')) {
      text += std::string(Take().text);
    }
    return std::make_pair(text, v.column);
  }

  bool ReadId(const filter::Qualifiers& q, const Token& after, filter::IdText* id) {
    const auto word = ReadWord(filter::MissingValue(q, after.text));
    if (!word) {
      return false;
    }
    std::tie(id->text, id->column) = *word;
    if (q.kind == filter::QualKind::PortRange) {
      const auto dash = id->text.find('-');
      if (dash != std::string::npos) { // "1000-2000", "ftp-telnet": split at the first "-"
        id->high = id->text.substr(dash + 1);
        id->high_column = id->column + static_cast<int>(dash) + 1;
        id->text.resize(dash);
      } else if (Peek().kind == TokenKind::Dash) { // "1000 - 2000"
        Take();
        const auto high = ReadWord("expected a port, got ");
        if (!high) {
          return false;
        }
        std::tie(id->high, id->high_column) = *high;
      }
    }
    if (IsWord("mask") && q.kind != filter::QualKind::Port &&
        q.kind != filter::QualKind::PortRange && q.kind != filter::QualKind::Proto &&
        q.kind != filter::QualKind::ProtoChain) {
      const Token mask = Take();
      const auto m = ReadWord("expected a netmask after \"" + std::string(mask.text) + "\", got ");
      if (!m) {
        return false;
      }
      std::tie(id->mask, id->mask_column) = *m;
    }
    return true;
  }

  int Build(const filter::Qualifiers& q, const filter::IdText& id, int column) {
    filter::Diagnostic diagnostic;
    const int root = filter::BuildPrimitive(
        q, id, column, [this](const FilterNode& n) { return Add(n); }, &diagnostic);
    if (root < 0 && error_.empty()) {
      error_ = "column " + std::to_string(diagnostic.column) + ": " + diagnostic.message;
    }
    return root;
  }

  FilterExpression expr_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  std::string error_;
  // The qualifiers a bare ID would inherit here; empty after a lone
  // protocol, less/greater, or at the start.
  std::optional<filter::Qualifiers> ctx_;
  AndChain and_;
  int ids_only_ = 0; // inside "host (A or B)": values only
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
    // "link[0] & 1": the link layer is the first thing wrong, not the "&".
    const auto link = filter::FirstLinkLayerWord(tokens.tokens);
    return Error{link.value_or(tokens.error), 0};
  }
  return Parser(text, std::move(tokens.tokens)).Run();
}

} // namespace wgcap
